import Dispatch
import SondaConfig
import Testing

/// One sink shared by loaders on several threads keeps every diagnostic reported into it.
@Suite struct DiagnosticSinkTests {
    @Test func reportsFromManyThreadsAreAllKept() {
        let sink = DiagnosticSink()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for line in 1...2_000 {
                sink.report(
                    Diagnostic(
                        file: "t\(thread).yaml", line: line, column: 1, severity: line % 2 == 0 ? .warning : .error,
                        message: "m"))
                _ = sink.hasErrors
            }
        }
        let reported = sink.diagnostics
        #expect(reported.count == 16_000)
        #expect(Set(reported.map { "\($0.file):\($0.line)" }).count == 16_000, "none lost, none twice")
        #expect(sink.sorted.first.map { "\($0.file):\($0.line)" } == "t0.yaml:1")
        #expect(sink.hasErrors)
    }
}
