import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SondaConfig

/// `sonda-aggregator serve`: the HTTP application, the pruner and the alert evaluator in one ServiceGroup, which
/// drains in-flight requests on SIGTERM or SIGINT.
public enum AggregatorServer {
    /// Opens the database, records the configuration load in the audit chain, and runs until a
    /// signal. `alertSink` gets each alert evaluation's round (the receivers' dispatcher);
    /// `onListening` gets the bound port (for tests that listen on port 0).
    public static func run(
        config: AggregatorConfig, configText: String, alertSink: any AlertSink = DiscardingAlertSink(),
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        var logger = Logger(label: "sonda-aggregator")
        logger.logLevel = .notice
        let store = try ResultStore(path: config.database)
        try await store.pool.write { db in
            try AuditLog.append(
                kind: "config",
                detail: "file=\(config.file) sha256=\(AuditLog.digest(Data(configText.utf8))) agents=\(config.agents.count)",
                at: Date(), in: db)
        }
        let router = AggregatorRouter(config: config, store: store).build()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "sonda-aggregator"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? config.port) },
            logger: logger)
        let pruner = RetentionPruner(store: store, raw: config.rawRetention, rollups: config.rollupRetention)
        let alerts = AlertService(config: config, store: store, sink: alertSink, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: pruner), .init(service: alerts)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
