import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// Every probe case against real nginx virtual hosts: the exact error code, which phases are
/// present, and what the TLS report says.
@Suite struct HTTPProberTests {
    static let pool = ProbeWorkerPool(workers: 2)

    struct Case: Sendable, CustomTestStringConvertible {
        var host: String
        var path = "/"
        var tlsMin = "TLSv1.3"
        var code: ProbeError.Code?
        /// Phases that must be present; the others must be absent.
        var phases: Set<PhaseTimings.Phase>
        var testDescription: String { "\(host)\(path) → \(code?.rawValue ?? "ok")" }
    }

    static let all: Set<PhaseTimings.Phase> = [.dns, .connect, .tls, .send, .wait, .receive, .total]
    static let untilTLS: Set<PhaseTimings.Phase> = [.dns, .connect, .tls, .total]

    static let cases: [Case] = [
        Case(host: "tls13", code: nil, phases: all),
        Case(host: "tls12", tlsMin: "TLSv1.2", code: nil, phases: all),
        Case(host: "tls12", code: .tlsVersion, phases: untilTLS),
        Case(host: "expired", code: .tlsExpired, phases: untilTLS),
        Case(host: "expiring", code: .tlsExpiring, phases: all),
        Case(host: "wronghost", code: .tlsHostname, phases: untilTLS),
        Case(host: "untrusted", code: .tlsUntrusted, phases: untilTLS),
        Case(host: "nochain", code: .tlsUntrusted, phases: untilTLS),
        Case(host: "tls13", path: "/redirect/3", code: nil, phases: all),
        Case(host: "tls13", path: "/redirect/loop", code: .redirects, phases: all),
        Case(host: "tls13", path: "/status/503", code: .httpStatus, phases: all),
        Case(host: "http", code: nil, phases: all),
    ]

    func probe(_ request: ProbeRequest) async -> ProbeResult { await Self.pool.probe(request) }

    @Test(arguments: cases)
    func errorCodeAndPhases(_ c: Case) async throws {
        let lab = try TLSLab.shared()
        let result = await probe(
            ProbeRequest(url: lab.url(c.host, c.path), caFile: lab.ca, tlsPolicy: TLSPolicy(minVersion: c.tlsMin)))
        #expect(result.error?.code == c.code, "\(result.error?.message ?? "no error")")
        #expect(result.ok == (c.code == nil))
        let present = Set(PhaseTimings.Phase.allCases.filter { result.phases[$0] != nil })
        #expect(present == c.phases)
        let sum = PhaseTimings.Phase.allCases.filter { $0 != .total }.compactMap { result.phases[$0] }.reduce(0, +)
        #expect(abs(sum - result.phases.total) < 0.01)
        #expect(result.phases.total > 0)
        if c.host != "http" {
            #expect(try #require(result.phases.connect) > 0, "TCP connect time is measured even when TLS fails")
            #expect(result.tls != nil)
        }
    }

    /// A worker keeps each certificate it has parsed; whichever server it probes next, the report
    /// names that server's certificates (fingerprints as `openssl x509 -fingerprint` gives them).
    @Test func aWorkerReportsEachServersOwnCertificates() async throws {
        let lab = try TLSLab.shared()
        func fingerprint(_ name: String) async throws -> String {
            let run = try await ChildProcess.run(
                "/usr/bin/openssl", ["x509", "-in", "\(lab.dir)/pki/\(name).pem", "-noout", "-fingerprint", "-sha256"])
            let hex = try #require(run.stdout.split(separator: "=").last)
            return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
                .lowercased()
        }
        let good = try await fingerprint("good")
        let expired = try await fingerprint("expired")
        let intermediate = try await fingerprint("intermediate")
        let worker = ProbeWorkerPool(workers: 1)
        for (host, leaf) in [("tls13", good), ("expired", expired), ("tls13", good), ("expired", expired)] {
            let tls = try #require(await worker.probe(ProbeRequest(url: lab.url(host), caFile: lab.ca)).tls)
            #expect(tls.leaf?.sha256 == leaf, "\(host)")
            #expect(tls.chain.map(\.sha256) == [intermediate], "\(host)")
        }
    }

    @Test func goodHostReportsTLS13ChainAndExpiry() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls13", "/small.txt"), caFile: lab.ca))
        let tls = try #require(result.tls)
        #expect(tls.version == "TLSv1.3")
        #expect(tls.cipher?.hasPrefix("TLS_") == true)
        #expect(tls.verified)
        let leaf = try #require(tls.leaf)
        #expect(leaf.subject.contains("localhost"))
        #expect(leaf.sans.contains("localhost") && leaf.sans.contains("127.0.0.1"))
        #expect(leaf.issuer.contains("Intermediate"))
        #expect(leaf.sha256.count == 64)
        #expect(tls.chain.map(\.subject).contains { $0.contains("Intermediate") })
        #expect(try #require(tls.daysToExpiry) > 300)
        let http = try #require(result.http)
        #expect(http.status == 200)
        #expect(http.bodyBytes == 2048)
        #expect(http.remoteIP == "127.0.0.1")
        #expect(result.assertions == [AssertionOutcome(name: "status", ok: true)])
    }

    @Test func tls12HostIsRefusedBeforeAnyRequestIsSent() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls12"), caFile: lab.ca))
        #expect(result.error?.message == "server negotiated TLSv1.2; policy requires TLSv1.3")
        #expect(result.tls?.version == "TLSv1.2")
        #expect(result.http == nil)
    }

    @Test func expiredAndMissingIntermediateSayWhatIsWrong() async throws {
        let lab = try TLSLab.shared()
        let expired = await probe(ProbeRequest(url: lab.url("expired"), caFile: lab.ca))
        #expect(expired.error?.message.contains("expired on 2020") == true, "\(expired.error?.message ?? "")")
        #expect(expired.tls?.verified == false)
        #expect(try #require(expired.tls?.daysToExpiry) < 0)
        let leafOnly = await probe(ProbeRequest(url: lab.url("nochain"), caFile: lab.ca))
        #expect(leafOnly.error?.message.contains("intermediate") == true, "\(leafOnly.error?.message ?? "")")
        #expect(leafOnly.tls?.chain.isEmpty == true)
    }

    @Test func expiringCertificateIsCaughtInsideTheCriticalWindowOnly() async throws {
        let lab = try TLSLab.shared()
        let inWindow = await probe(ProbeRequest(url: lab.url("expiring"), caFile: lab.ca))
        #expect(try #require(inWindow.tls?.daysToExpiry) < 3.1)
        #expect(inWindow.http?.status == 200)
        let narrow = TLSPolicy(expiryCritical: .seconds(86_400))
        let outside = await probe(ProbeRequest(url: lab.url("expiring"), caFile: lab.ca, tlsPolicy: narrow))
        #expect(outside.ok)
    }

    @Test func redirectsAreCountedAndTimed() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls13", "/redirect/3"), caFile: lab.ca))
        #expect(result.http?.redirects == 3)
        #expect(try #require(result.http?.redirectMilliseconds) > 0)
        #expect(result.http?.status == 200)
    }

    @Test func refusedConnectionAndUnknownName() async throws {
        // A port held bound but not listening: a port merely closed again can be another test's by
        // the time the probe connects (seen once: a server there answered).
        let refused = await probe(ProbeRequest(url: "http://127.0.0.1:\(try refusedLoopbackPort())/"))
        #expect(refused.error?.code == .connectRefused)
        #expect(refused.phases.tls == nil && refused.phases.connect != nil)
        let unknown = await probe(ProbeRequest(url: "https://sonda-probe-test.invalid/"))
        #expect(unknown.error?.code == .dns)
        #expect(unknown.phases.connect == nil)
    }

    /// libcurl writes its message into the easy handle's error buffer: each failure on one worker
    /// reports its own (with the port or name libcurl's bare code description lacks), and a
    /// success in between leaves nothing behind.
    @Test func eachFailureOnAWorkerCarriesLibcurlsOwnMessage() async throws {
        let lab = try TLSLab.shared()
        let worker = ProbeWorkerPool(workers: 1)
        let ports = (try RefusingPort(), try RefusingPort())
        let (first, second) = (ports.0.port, ports.1.port)
        defer { withExtendedLifetime(ports) {} }
        let refused = await worker.probe(ProbeRequest(url: "http://127.0.0.1:\(first)/"))
        #expect(refused.error?.message.contains("port \(first)") == true, "\(refused.error?.message ?? "no error")")
        let unknown = await worker.probe(ProbeRequest(url: "http://sonda-probe-test.invalid/"))
        #expect(unknown.error?.message.contains("sonda-probe-test.invalid") == true, "\(unknown.error?.message ?? "")")
        #expect(unknown.error?.message.contains("port \(first)") == false)
        let fine = await worker.probe(ProbeRequest(url: lab.url("http", "/small.txt")))
        #expect(fine.error == nil, "\(fine.error?.message ?? "")")
        let again = await worker.probe(ProbeRequest(url: "http://127.0.0.1:\(second)/"))
        #expect(again.error?.message.contains("port \(second)") == true, "\(again.error?.message ?? "no error")")
    }

    @Test func theSchemeDecidesTLSWhateverItsCase() {
        #expect(ProbeRequest(url: "https://a.example/").usesTLS)
        #expect(ProbeRequest(url: "HTTPS://a.example/").usesTLS)
        #expect(ProbeRequest(url: "hTtPs://a").usesTLS)
        #expect(!ProbeRequest(url: "http://a.example/").usesTLS)
        #expect(!ProbeRequest(url: "https:/").usesTLS)
        #expect(!ProbeRequest(url: "httpsx://a").usesTLS)
        #expect(!ProbeRequest(url: "").usesTLS)
    }

    @Test func handshakeOnlyCheckSendsNoRequest() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls13"), kind: .tlsHandshake, caFile: lab.ca))
        #expect(result.ok, "\(result.error?.description ?? "")")
        #expect(result.http == nil)
        #expect(result.remoteIP == "127.0.0.1", "no http object, so the address is the result's")
        #expect(result.tls?.version == "TLSv1.3")
        #expect(Set(PhaseTimings.Phase.allCases.filter { result.phases[$0] != nil }) == Self.untilTLS)
        let old = await probe(ProbeRequest(url: lab.url("tls12"), kind: .tlsHandshake, caFile: lab.ca))
        #expect(old.error?.code == .tlsVersion)
    }

    @Test func pinnedKeyMustMatchTheLeaf() async throws {
        let lab = try TLSLab.shared()
        let first = await probe(ProbeRequest(url: lab.url("tls13"), caFile: lab.ca))
        let pin = try #require(first.tls?.leaf?.spkiSHA256)
        let matching = await probe(
            ProbeRequest(
                url: lab.url("tls13"), caFile: lab.ca, tlsPolicy: TLSPolicy(spkiSHA256Pins: ["sha256//" + pin])))
        #expect(matching.ok)
        let other = await probe(
            ProbeRequest(
                url: lab.url("tls13"), caFile: lab.ca,
                tlsPolicy: TLSPolicy(spkiSHA256Pins: ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])))
        #expect(other.error?.code == .tlsPin)
        #expect(other.http == nil)
    }

    @Test func bodyIsCountedHashedAndBounded() async throws {
        let lab = try TLSLab.shared()
        let hashed = await probe(ProbeRequest(url: lab.url("tls13", "/json"), caFile: lab.ca, hashBody: true))
        let body = #"{"status":"ok","slots":[{"id":1},{"id":2}]}"#
        #expect(hashed.http?.bodyBytes == body.utf8.count || hashed.http?.bodyBytes == body.utf8.count + 1)
        #expect(hashed.http?.bodySHA256?.count == 64)
        let big = await probe(ProbeRequest(url: lab.url("tls13", "/big.bin"), caFile: lab.ca, maxBodyBytes: 100_000))
        #expect(big.error?.code == .bodyTooLarge)
        let whole = await probe(ProbeRequest(url: lab.url("http", "/big.bin")))
        #expect(whole.http?.bodyBytes == 500_000)
    }

    @Test func untrustedWithoutTheTestCA() async throws {
        let lab = try TLSLab.shared()
        let result = await probe(ProbeRequest(url: lab.url("tls13")))
        #expect(result.error?.code == .tlsUntrusted)
        #expect(result.tls?.leaf != nil, "the chain is reported even when it is not trusted")
    }
}
