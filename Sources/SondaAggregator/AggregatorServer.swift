import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import SondaConfig
import SondaCore
import SondaHTTPServer
import SondaKeys
import Synchronization

/// `sonda-aggregator serve`: the HTTP application, the pruner, the alert evaluator and alert
/// delivery in one ServiceGroup, which drains in-flight requests on SIGTERM or SIGINT (alert
/// delivery last, so the final round still goes out).
public enum AggregatorServer {
    /// Opens the database, records the configuration load in the audit chain, and runs until a
    /// signal. Each alert evaluation's round goes to the receivers in `alerting:`, or to
    /// `alertSink` when given; `onListening` gets the bound port (for tests that listen on port 0).
    public static func run(
        config: AggregatorConfig, configText: String, alertSink: (any AlertSink)? = nil,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        var logger = Logger(label: "sonda-aggregator")
        logger.logLevel = .notice
        let signingKey = try config.audit.map(Self.signingKey)
        let store: any AggregatorStore
        do {
            store = try await StoreOpening.open(config.database, logger: logger, faults: FaultLog(logger: logger))
        } catch let error as PostgresStoreError {
            throw AggregatorStartError(message: "\(error)")
        } catch let error as SQLiteLockError {
            throw AggregatorStartError(message: error.message)
        }
        let listening = Atomic(false)
        do {
            try await serve(
                store: store, config: config, configText: configText, signingKey: signingKey, alertSink: alertSink,
                logger: logger,
                onListening: { port in
                    listening.store(true, ordering: .relaxed)
                    onListening(port)
                })
        } catch let error as IOError where !listening.load(ordering: .relaxed) {
            // The server never listened: the bind failed (NIO says "bind(descriptor:ptr:bytes:): …").
            await store.close()
            throw AggregatorStartError(
                message: "cannot listen on \(config.host):\(config.port): \(String(cString: strerror(error.errnoCode)))")
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    static func serve(
        store: any AggregatorStore, config: AggregatorConfig, configText: String,
        signingKey: Curve25519.Signing.PrivateKey?, alertSink: (any AlertSink)?, logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) async throws {
        try await store.appendAudit(
            kind: "config",
            detail:
                "file=\(config.file) sha256=\(AuditLog.digest(Data(configText.utf8))) agents=\(config.agents.count)",
            at: Date())
        var options = AlertDispatcher.Options()
        options.expiry = config.alerting.deliveryExpiry
        let dispatcher = AlertDispatcher(config: config.alerting, options: options, store: store, logger: logger)
        let statusURL = config.alerting.externalURL ?? ""
        let router = AggregatorRouter(
            config: config, store: store, deliveries: dispatcher.counters,
            activeAlerts: {
                try await store.activeAlerts().filter { $0.state == .firing && !$0.silenced }
                    .map { $0.notification(generatorURL: statusURL) }
            }
        ).build()
        let app = Application(
            router: router,
            server: try httpServer(config),
            configuration: .init(
                address: .hostname(config.host, port: config.port), serverName: "sonda-aggregator",
                availableConnectionsDelegate: serverLimits(config).connections),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? config.port) },
            logger: logger)
        let pruner = RetentionPruner(store: store, raw: config.rawRetention, rollups: config.rollupRetention)
        let alerts = AlertService(config: config, store: store, sink: alertSink ?? dispatcher, logger: logger)
        // Services stop in reverse order: the checkpointer's last checkpoint comes after the server
        // has drained and the store's upkeep has linked what it could.
        var checkpointer: AuditCheckpointer?
        if let audit = config.audit, let signingKey {
            checkpointer = AuditCheckpointer(store: store, key: signingKey, config: audit)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: dispatcher)] + (checkpointer.map { [.init(service: $0)] } ?? []) + [
                    .init(service: app), .init(service: pruner), .init(service: alerts),
                ] + store.maintenance.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await store.flushRollups()
    }

    /// The key `audit: signing_key` names (checked when the file was loaded; it may have gone since).
    static func signingKey(_ audit: AuditConfig) throws -> Curve25519.Signing.PrivateKey {
        do {
            return try Ed25519KeyFile.load(from: audit.signingKey, madeBy: "sonda-aggregator keygen --out FILE")
        } catch {
            throw AggregatorStartError(message: "audit: \(error)")
        }
    }

    /// The limits of `limits:` on every connection; request heads up to 32 KiB.
    static func serverLimits(_ config: AggregatorConfig) -> ServerLimits {
        ServerLimits(
            requestTimeout: config.requestTimeout, responseTimeout: config.responseTimeout,
            maxConnections: config.maxConnections, maxRequestHeadBytes: 32 << 10)
    }

    /// HTTP/1.1 within `serverLimits`, over TLS when `tls:` is configured, answering
    /// `Expect: 100-continue` only for requests ingest would read (`ExpectContinue`).
    public static func httpServer(_ config: AggregatorConfig) throws -> HTTPServerBuilder {
        let admits = ExpectContinue.aggregatorAdmits(config)
        let http1 = HTTPServerBuilder.http1(
            configuration: serverLimits(config).http1Configuration { [ExpectContinue(admits: admits)] })
        guard let tls = config.tls else { return http1 }
        return try .tls(http1, tlsConfiguration: tlsConfiguration(tls))
    }

    /// TLS 1.2 and 1.3 (agents' libcurl negotiates 1.3); the chain file holds the leaf first.
    static func tlsConfiguration(_ files: AggregatorConfig.TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch {
            throw AggregatorStartError(
                message:
                    "cannot load TLS certificate '\(files.certificateChain)' or key '\(files.privateKey)': \(error)")
        }
    }
}

/// A reason `serve` cannot start, printed as one line.
public struct AggregatorStartError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
