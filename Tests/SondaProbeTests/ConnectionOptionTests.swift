import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// `http_version`, `ip_version` and `resolve` against the nginx lab: HTTP/2 over TLS and in the
/// clear, a host on both 127.0.0.1 and ::1, and a name only an override knows.
@Suite struct ConnectionOptionTests {
    /// One worker, so a probe runs on the handle the previous one left (its DNS cache included).
    static let pool = ProbeWorkerPool(workers: 1)

    @Test(arguments: [
        ("h2", HTTPVersion.auto, "2"), ("h2", .http1_1, "1.1"), ("h2", .http2, "2"), ("tls13", .http2, "1.1"),
        ("h2c", .http2, "2"), ("http", .auto, "1.1"),
    ])
    func theNegotiatedVersionIsReported(_ host: String, _ version: HTTPVersion, _ negotiated: String) async throws {
        let lab = try TLSLab.shared()
        let url = host == "h2c" ? "http://localhost:\(lab.port(host))/" : lab.url(host)
        let result = await Self.pool.probe(
            ProbeRequest(url: url, caFile: lab.ca, connection: ConnectionOptions(httpVersion: version)))
        #expect(result.ok, "\(result.error?.description ?? "")")
        #expect(result.http?.version == negotiated)
        let sum = PhaseTimings.Phase.allCases.filter { $0 != .total }.compactMap { result.phases[$0] }.reduce(0, +)
        #expect(abs(sum - result.phases.total) < 0.01)
    }

    @Test(arguments: [(IPVersion.v6, "::1"), (.v4, "127.0.0.1")])
    func ipVersionPicksTheFamily(_ version: IPVersion, _ address: String) async throws {
        let lab = try TLSLab.shared()
        let port = lab.port("dual")
        let both = HostOverride(host: "localhost", port: port, addresses: ["127.0.0.1", "::1"])
        let result = await Self.pool.probe(
            ProbeRequest(
                url: "https://localhost:\(port)/", caFile: lab.ca,
                connection: ConnectionOptions(ipVersion: version, resolve: [both])))
        #expect(result.ok, "\(result.error?.description ?? "")")
        #expect(result.http?.remoteIP == address)
        #expect(result.tls?.verified == true, "the certificate is checked against the name, not the address")
    }

    @Test func anOverrideKeepsTheNameForSNIAndHost() async throws {
        let lab = try TLSLab.shared()
        let port = lab.port("tls13")
        let check = CheckSpec(
            name: "override", endpointClass: "reporting",
            target: .http(
                HTTPStep(
                    name: "override", url: "https://api.clinic.example:\(port)/host",
                    expect: [.status([200...200]), .body(.equals("api.clinic.example\n"))])),
            caFile: lab.ca,
            connection: ConnectionOptions(
                resolve: [HostOverride(host: "api.clinic.example", port: port, addresses: ["127.0.0.1"])]))
        let result = try #require(await Self.pool.run(check, redactor: SecretRedactor()).first)
        #expect(result.ok, "\(result.error?.description ?? "")")
        #expect(result.http?.remoteIP == "127.0.0.1")
        #expect(result.tls?.verified == true)
        #expect(result.assertions.allSatisfy { $0.ok })
    }

    /// libcurl keeps overrides in the handle's DNS cache past curl_easy_reset: the next probe
    /// without them must not connect where the last one was sent.
    @Test func anOverrideEndsWithItsProbe() async throws {
        let lab = try TLSLab.shared()
        let port = lab.port("tls13")
        let elsewhere = HostOverride(host: "localhost", port: port, addresses: ["127.0.0.2"])
        let overridden = await Self.pool.probe(
            ProbeRequest(url: lab.url("tls13"), caFile: lab.ca, connection: ConnectionOptions(resolve: [elsewhere])))
        #expect(overridden.error?.code == .connectRefused, "nginx listens on 127.0.0.1 only")
        let plain = await Self.pool.probe(ProbeRequest(url: lab.url("tls13"), caFile: lab.ca))
        #expect(plain.ok, "\(plain.error?.description ?? "")")
        #expect(plain.http?.remoteIP == "127.0.0.1")
    }

    @Test(arguments: [("h2", true), ("tls13", false)])
    func expectHTTPVersionJudgesTheNegotiatedOne(_ host: String, _ passes: Bool) async throws {
        let lab = try TLSLab.shared()
        let check = CheckSpec(
            name: "h2-only", endpointClass: "reporting",
            target: .http(HTTPStep(name: "h2-only", url: lab.url(host), expect: [.httpVersion("2")])),
            caFile: lab.ca, connection: ConnectionOptions(httpVersion: .http2))
        let result = try #require(await Self.pool.run(check, redactor: SecretRedactor()).first)
        #expect(result.ok == passes)
        if !passes {
            #expect(result.error?.code == .assertion)
            #expect(result.assertions.contains(AssertionOutcome(name: "http_version 2", ok: false, actual: "1.1")))
        }
    }
}
