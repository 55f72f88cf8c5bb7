import Foundation
import TestSupport
import Testing

/// Issue 19's PostgreSQL restarted (`pg_ctl restart -m fast`) and `kill -9`'d under load: two
/// replicas on one database take a load generator's signed batches (20 000 results, each batch
/// sent again after a 5xx or a reset until a 200, as an agent would) and a real agent's, which
/// reports through both (`aggregator: {urls: […]}`). Every acknowledged result must be stored,
/// once. PostgresRestartTests runs a crash (`stop -m immediate`, start) in `make test`; these
/// rows run in `make faults`.
@Suite(.serialized, .enabled(if: FaultLength.full, "make faults only (minutes of load)"))
struct PostgresFaultScenarios {
    @Test(arguments: ["restart", "kill"])
    func postgresqlGoesAwayUnderLoad(fault: String) async throws {
        let world = try await PostgresFaultWorld()
        // The fault lands mid-load, once the generator and the agent both have results stored.
        let underWay = await eventually {
            guard world.acked() >= 4_000 else { return false }
            return ((try? await world.stored("clinic")) ?? 0) > 0
        }
        #expect(underWay)
        let before = world.acked()
        let faultStarted = ContinuousClock.now
        if fault == "restart" {
            try await world.cluster.control("restart", mode: "fast")
        } else {
            try await world.cluster.killPostmasterAndStart()
        }
        let back = ContinuousClock.now
        let storedAgent = try await world.stored("clinic")
        let recovered = await eventually {
            for port in world.ports {
                guard await world.health(port) == #"{"status":"ok"}"# else { return false }
            }
            return ((try? await world.stored("clinic")) ?? 0) > storedAgent
        }
        #expect(recovered, "both replicas answer and the agent's results arrive again")
        let recovery = ContinuousClock.now - back
        #expect(before < PostgresFaultWorld.total, "the fault came mid-load")

        let figures = try await world.finish(
            fault == "restart" ? "PostgreSQL restart -m fast under load" : "PostgreSQL kill -9 under load",
            recovery: recovered ? recovery : nil,
            notes: "server down \(String(format: "%.1f", (back - faultStarted).secondsValue)) s.")
        #expect(figures.lost == 0, "no acknowledged result is lost: \(figures)")
        #expect(figures.duplicated == 0, "\(figures)")
        #expect(figures.dropped == 0, "\(figures)")
        #expect((figures.recoverySeconds ?? .infinity) <= 120, "\(figures)")
    }
}
