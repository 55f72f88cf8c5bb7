import Foundation
import SondaAgent
import SondaCore
import SondaProbe
import Testing

@Suite struct ProbeReportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func result(wait: Double, error: ProbeError? = nil) -> ProbeResult {
        let now = Date(timeIntervalSince1970: 1_795_428_000)
        let leaf = CertificateInfo(
            subject: "CN=api.clinica.example", issuer: "CN=Example CA", sans: ["api.clinica.example"],
            notBefore: now, notAfter: now.addingTimeInterval(90 * 86_400), sha256: "ab", spkiSHA256: "cd")
        return ProbeResult(
            startedAt: now, error: error,
            phases: PhaseTimings(dns: 1.2, connect: 0.3, tls: 5.1, send: 0.1, wait: wait, receive: 0.4, total: 7.1 + wait),
            http: HTTPInfo(status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 123, remoteIP: "127.0.0.1"),
            tls: TLSReport(version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", verified: true, leaf: leaf, chain: [], now: now),
            url: "https://api.clinica.example/health")
    }

    @Test func waterfallMatchesGolden() throws {
        let text = ProbeReport(style: TerminalStyle(colour: false)).waterfall(Self.result(wait: 10.2)) + "\n"
        try expectGolden(text, "waterfall.txt")
    }

    @Test func summaryMatchesGolden() throws {
        let results = (1...19).map { Self.result(wait: Double($0)) }
            + [Self.result(wait: 3, error: ProbeError(.timeout, "Operation timed out after 5000 milliseconds"))]
        let text = ProbeReport(style: TerminalStyle(colour: false))
            .summary(results, budget: LatencyBudget(limit: .milliseconds(20))) + "\n"
        try expectGolden(text, "summary.txt")
    }

    @Test func colourOnlyWhenAsked() {
        let coloured = ProbeReport(style: TerminalStyle(colour: true)).waterfall(Self.result(wait: 1))
        #expect(coloured.contains("\u{1B}[32mOK"))
    }

    @Test func exitOutcomes() {
        let probe = AdHocProbe(request: ProbeRequest(url: "https://x/"), budget: LatencyBudget(limit: .milliseconds(20)))
        #expect(probe.outcome(of: [Self.result(wait: 1)]) == .ok)
        #expect(probe.outcome(of: [Self.result(wait: 50)]) == .overBudget)
        #expect(probe.outcome(of: [Self.result(wait: 50), Self.result(wait: 1, error: ProbeError(.dns, "x"))]) == .probeFailed)
    }

    /// Compares with Tests/Fixtures/NAME; set SONDA_UPDATE_GOLDEN=1 to rewrite it.
    func expectGolden(_ text: String, _ name: String) throws {
        let url = Self.fixtures.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SONDA_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(text == golden, "\n\(text)")
    }
}
