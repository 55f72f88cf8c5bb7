import Foundation
import SondaProbe
import Synchronization
import Testing

@Suite struct ProbeWorkerPoolTests {
    final class Counts: Sendable {
        let started = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
    }

    /// `sonda-agent probe` exits right after `shutdown`; a worker still freeing its handle then
    /// races exit's teardown of OpenSSL (a crash in about one release run in 20). So `shutdown`
    /// returns only once the queued work has run and every worker has let go of its handle.
    @Test func shutdownReturnsOnlyOnceEveryWorkerIsDone() async throws {
        let pool = ProbeWorkerPool(workers: 2)
        let counts = Counts()
        // Two jobs that outlast the call to `shutdown`, neither awaited.
        let jobs = (0..<2).map { _ in
            Task {
                await pool.withWorker { _ in
                    counts.started.add(1, ordering: .sequentiallyConsistent)
                    usleep(200_000)
                    counts.finished.add(1, ordering: .sequentiallyConsistent)
                }
            }
        }
        while counts.started.load(ordering: .sequentiallyConsistent) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        pool.shutdown()
        #expect(counts.finished.load(ordering: .sequentiallyConsistent) == 2)
        #expect(pool.runningWorkers == 0)
        for job in jobs { await job.value }
    }
}
