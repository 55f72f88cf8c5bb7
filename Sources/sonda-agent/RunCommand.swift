import ArgumentParser
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import SondaAgent
import SondaCLI
import SondaConfig
import SondaCore
import SondaProbe
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: schedule checks, spool and report signed results, serve /metrics and /health.",
        discussion:
            "SIGTERM drains (in-flight probes finish, the spool is flushed) and exits 0; SIGHUP reloads the config."
    )

    @Option(help: "The agent file.")
    var config: String

    @Option(help: "Address for /metrics and /health.")
    var listen: String = "127.0.0.1:9471"

    @Option(name: .customLong("aggregator-ca-file"), help: "PEM trust store for the aggregator's certificate.")
    var aggregatorCAFile: String?

    @Option(help: "Probe worker threads.")
    var workers: Int = 4

    @Option(help: "How long SIGTERM waits for the probes in flight and the last flush before it gives up and exits 1.")
    var grace: Duration = .seconds(30)

    func run() async throws {
        var logger = Logger(label: "sonda-agent")
        logger.logLevel = .info
        let agent = try Self.load(config)
        if let offset = TestFaults.clockOffset(ProcessInfo.processInfo.environment) {
            WallClock.shift(by: offset)
            logger.warning("fault injection (tests only): this agent's clock runs \(offset) off the system's")
        }
        guard !agent.aggregatorURLs.isEmpty else {
            throw CommandFailure(message: "\(config): 'aggregator: {url (or urls), key}' is required to run", code: .config)
        }
        guard let keyFile = agent.keyFile else {
            throw CommandFailure(
                message: "\(config): aggregator 'key' is required (sonda-agent keygen --out FILE)", code: .config)
        }
        let key: Curve25519.Signing.PrivateKey
        do { key = try AgentKey.load(from: keyFile) } catch { throw CommandFailure(message: "\(error)", code: .config) }
        let spoolDirectory = agent.spool ?? "./spool"
        let spool: ResultSpool
        do {
            spool = try ResultSpool(
                directory: spoolDirectory,
                configuration: SpoolConfiguration(
                    maxResultsPerBatch: agent.batch.maxResults, maxBatchAge: agent.batch.maxAge))
        } catch {
            throw CommandFailure(message: "cannot open spool '\(spoolDirectory)': \(error)", code: .cannotCreate)
        }
        let metrics = AgentMetrics(
            faults: FaultLog { [logger] change in logger.log(level: change.isRecovery ? .notice : .error, "\(change)") }
        )
        let server: AgentHTTPServer
        do { server = try await AgentHTTPServer.start(address: listen, metrics: metrics, logger: logger) } catch {
            throw CommandFailure(message: "\(error)", code: .config)
        }
        let listening: Logger.Message =
            "agent \(agent.id) (\(agent.region)): /metrics and /health on port \(server.port), reporting to \(agent.aggregatorURLs.map(SecretRedactor.withoutPassword).joined(separator: ", "))"

        let scheduler = ProbeScheduler(
            config: agent, workers: max(workers, 1), spool: spool, metrics: metrics, logger: logger)
        let reporter = Reporter(
            aggregatorURLs: agent.aggregatorURLs, caFile: aggregatorCAFile,
            signer: BatchSigner(agentID: agent.id, key: key),
            spool: spool, metrics: metrics, configHash: ConfigDigest.of(agent),
            logger: logger,
            whenDrained: {
                // Everything sent and nothing due for a minute: give back the code pages that
                // probing and reporting touched; the next probe faults back what it needs.
                if scheduler.isIdle(for: .seconds(60)) { StartupPages.release() }
            })
        let reload = ReloadOnHangup(path: config, scheduler: scheduler, reporter: reporter, logger: logger)
        var configuration = ServiceGroupConfiguration(
            // Graceful shutdown runs in reverse order: stop reloading, drain the probes in
            // flight, and only then flush the spool to the aggregator.
            services: [
                .init(service: Announcement(message: listening, logger: logger), successTerminationBehavior: .ignore),
                .init(service: reporter), .init(service: scheduler),
                .init(service: reload, successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Past the grace the services are cancelled: the scheduler stops waiting for its probes and
        // the reporter for its flush (at most one send of 3 s). Their results stay spooled or are
        // never acknowledged, so nothing the aggregator was told about is lost.
        configuration.maximumGracefulShutdownDuration = grace
        configuration.maximumCancellationDuration = .seconds(5)
        releaseStartupPages(after: 2, logger: logger)
        do { try await ServiceGroup(configuration: configuration).run() } catch {
            await server.close()
            throw error
        }
        await server.close()
        let account = metrics.account
        logger.info(
            "results: \(account.produced) produced, \(account.unwritten) not spooled (disk), \(spool.depth) still spooled; \(spool.droppedTotal) dropped in the spool's life"
        )
        if scheduler.abandonedProbes {
            throw CommandFailure(
                message:
                    "shutdown took longer than the grace of \(DurationParsing.format(grace)); exited with probes in flight",
                code: .failed)
        }
        logger.info("stopped")
    }

    static func load(_ path: String) throws -> AgentConfig {
        var loader = ConfigLoader()
        let agent = loader.loadAgent(path: path)
        guard let agent, loader.diagnostics.isEmpty else {
            let text = loader.diagnosticsText
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw CommandFailure(message: "\(path) has errors; see above", code: .config)
        }
        return agent
    }
}

/// SIGHUP: load the config again; a broken one is reported and the running one kept. The next
/// heartbeat carries the new configuration's hash.
struct ReloadOnHangup: Service {
    let path: String
    let scheduler: ProbeScheduler
    let reporter: Reporter
    let logger: Logger

    /// Signals that come while a reload runs make one more reload, not one each: a storm of 100
    /// SIGHUPs in 10 s read a file of 2 000 checks 100 times, one after another, for over a minute
    /// after the storm.
    func run() async throws {
        let (pending, hangup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    hangup.yield()
                }
                hangup.finish()
            }
            for await _ in pending { reload() }
        }
    }

    private func reload() {
        var loader = ConfigLoader()
        if let agent = loader.loadAgent(path: path), loader.diagnostics.isEmpty {
            scheduler.reload(agent)
            reporter.configHash = ConfigDigest.of(agent)
        } else {
            let text = loader.diagnosticsText
            logger.error("reload of \(path) failed; keeping the running config:\n\(text)")
        }
        StartupPages.release()  // the YAML parser's pages, touched again
    }
}

/// Once the agent has started and run its first probes, the code only starting used is unmapped
/// (see `StartupPages`). On a thread of its own, not after a `Task.sleep`: once any Swift task has
/// slept, Dispatch's timer thread on Linux wakes every second for the rest of the process's life.
func releaseStartupPages(after seconds: UInt32, logger: Logger) {
    startThread("sonda-startup", stackSize: 256 << 10) {
        sleep(seconds)
        let kB = StartupPages.release()
        logger.debug("unmapped \(kB / 1024) MB of start-up code and constants")
    }
}

/// Logs that the agent listens once its service group runs, that is once SIGTERM is handled: a
/// supervisor or test that waits for the line may stop the agent at once and get a clean exit.
/// (Logged before, a SIGTERM in between killed the agent with the signal's default action.)
struct Announcement: Service {
    let message: Logger.Message
    let logger: Logger

    func run() async throws {
        logger.info(message)
        try? await gracefulShutdown()
    }
}
