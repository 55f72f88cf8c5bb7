import Foundation
import Logging
import ServiceLifecycle
import SondaConfig
import SondaCore
import SondaProbe

/// Runs every check × profile at its interval on the probe worker pool and puts each result in
/// the spool. A slow or hung target delays nothing else: each probe has its own deadline and a
/// job still in flight is skipped and counted. On graceful shutdown it starts nothing new and
/// waits for the probes in flight; `reload` swaps in a new configuration.
public actor ProbeScheduler: Service {
    private var config: AgentConfig
    private var schedule: ProbeSchedule
    private let pool: ProbeWorkerPool
    private let spool: ResultSpool
    private let metrics: AgentMetrics
    private let logger: Logger
    private let started = ContinuousClock.now

    public init(config: AgentConfig, pool: ProbeWorkerPool, spool: ResultSpool, metrics: AgentMetrics, logger: Logger) {
        self.config = config
        self.schedule = Self.schedule(for: config)
        self.pool = pool
        self.spool = spool
        self.metrics = metrics
        self.logger = logger
    }

    static func schedule(for config: AgentConfig) -> ProbeSchedule {
        ProbeSchedule(checks: config.checks, profiles: config.profiles.map(\.name), agentID: config.id)
    }

    public func run() async throws {
        logger.info("scheduling \(schedule.jobCount) jobs (\(config.checks.count) checks × \(config.profiles.count) profiles)")
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let now = ContinuousClock.now - started
                for job in schedule.due(at: now) {
                    group.addTask { await self.execute(job) }
                }
                metrics.scheduled(skipped: schedule.skipped)
                let wait = min(max((schedule.nextDue ?? now + .seconds(1)) - now, .milliseconds(1)), .seconds(1))
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            }
            logger.info("draining probes in flight")
        }
    }

    /// Replaces the configuration; jobs in flight finish under the old one.
    public func reload(_ new: AgentConfig) {
        config = new
        schedule = Self.schedule(for: new)
        logger.info("reloaded: \(new.checks.count) checks × \(new.profiles.count) profiles")
    }

    private func execute(_ job: ProbeSchedule.Job) async {
        defer { schedule.finished(job) }
        guard let check = config.check(named: job.check) else { return }
        let redactor = config.redactor
        // The same emulated link as `sonda-agent probe --profile`, so fleet and ad hoc runs compare.
        let profile = config.profiles.first { $0.name == job.profile }
        var attempt = 0
        var results: [ProbeResult]
        repeat {
            attempt += 1
            results = await pool.withWorker { runner in runner.run(check, redactor: redactor, profile: profile) }
            if let failed = results.last(where: { $0.step == nil && !$0.ok }), attempt <= check.retries {
                logger.notice("\(check.name) [\(job.profile)] attempt \(attempt) failed (\(failed.error?.code.rawValue ?? "?")); retrying")
                continue
            }
            break
        } while true
        for index in results.indices {
            results[index].profile = job.profile
            results[index].agent = config.id
            results[index].region = config.region
        }
        do {
            try spool.append(results)
        } catch {
            logger.error("cannot spool results of \(check.name): \(error)")
        }
        results.forEach(metrics.record)
    }
}
