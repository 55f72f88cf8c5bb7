import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// `tcp` checks against line servers (an SMTP-like banner, echo, MLLP, and servers that answer
/// wrong, never, or close at once): the error code of each, which phases are present, and that
/// they add up to the total.
@Suite struct TCPProbeTests {
    static let pool = ProbeWorkerPool(workers: 2)

    enum Server: String, Sendable {
        case banner, echo, mllp, wrong, silent, closing, tlsBanner, tlsMLLP, closedPort
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var server: Server
        var tls = false
        var send: String?
        var expect: String?
        var code: ProbeError.Code?
        var phases: Set<PhaseTimings.Phase>
        var testDescription: String {
            "\(server)\(tls ? " tls" : "") send \(send ?? "-") expect \(expect ?? "-") → \(code?.rawValue ?? "ok")"
        }
    }

    static let connected: Set<PhaseTimings.Phase> = [.dns, .connect, .tls, .total]
    static let all = connected.union([.send, .wait, .receive])
    static let block = #"\x0bMSH|^~\&|SONDA|CLINIC|||20261205||ADT^A01|1|P|2.5\r\x1c\r"#

    static let cases: [Case] = [
        Case(server: .banner, phases: connected),
        Case(server: .banner, expect: "220 ", phases: all),
        Case(server: .banner, send: #"QUIT\r\n"#, expect: #"ready\r\n221 bye"#, phases: all),
        Case(server: .echo, send: #"PING\r\n"#, expect: "PING", phases: all),
        Case(server: .echo, send: #"PING\r\n"#, phases: connected.union([.send])),
        Case(server: .mllp, send: block, expect: #"MSA|AA|1\r\x1c"#, phases: all),
        Case(server: .mllp, send: block, expect: "MSA|AE", code: .tcpExpect, phases: all),
        Case(server: .wrong, expect: "220", code: .tcpExpect, phases: all),
        Case(server: .closing, expect: "220", code: .tcpExpect, phases: connected.union([.send, .wait])),
        Case(server: .silent, expect: "220", code: .timeout, phases: connected.union([.send, .wait])),
        Case(server: .closedPort, expect: "220", code: .connectRefused, phases: [.dns, .connect, .total]),
        Case(server: .tlsBanner, tls: true, expect: "220 ", phases: all),
        Case(server: .tlsMLLP, tls: true, send: block, expect: "MSA|AA", phases: all),
        Case(server: .banner, tls: true, expect: "220", code: .tlsHandshake, phases: connected),
    ]

    static func port(_ server: Server) throws -> Int {
        let lab = try LineServerLab.shared()
        switch server {
        case .banner: return lab.banner
        case .echo: return lab.echo
        case .mllp: return lab.mllp
        case .wrong: return lab.wrong
        case .silent: return lab.silent
        case .closing: return lab.closing
        case .tlsBanner: return lab.tlsBanner
        case .tlsMLLP: return lab.tlsMLLP
        case .closedPort: return try refusedLoopbackPort()
        }
    }

    static func check(
        port: Int, host: String = "localhost", tls: Bool = false, send: String? = nil, expect: String? = nil,
        timeout: Duration = .seconds(2), connection: ConnectionOptions = ConnectionOptions()
    ) throws -> CheckSpec {
        let exchange = TCPExchange(
            send: try send.map { try ByteEscapes.decode($0) }, expect: try expect.map { try ByteEscapes.decode($0) })
        return CheckSpec(
            name: "hl7-feed", endpointClass: "custom:hl7", timeout: timeout,
            target: .tcp(TCPTarget(address: TCPAddress(host: host, port: port), usesTLS: tls, exchange: exchange)),
            caFile: try TLSLab.shared().ca, connection: connection)
    }

    static func run(_ check: CheckSpec, profile: NetworkProfile? = nil) async throws -> ProbeResult {
        let results = await pool.withWorker { $0.run(check, redactor: SecretRedactor(), profile: profile) }
        #expect(results.count == 1)
        return try #require(results.first)
    }

    static func expectPhasesAddUp(_ result: ProbeResult) {
        let sum = PhaseTimings.Phase.allCases.filter { $0 != .total }.compactMap { result.phases[$0] }.reduce(0, +)
        #expect(abs(sum - result.phases.total) < 0.01, "phases add up to the total")
    }

    @Test(arguments: cases)
    func errorCodeAndPhases(_ c: Case) async throws {
        let check = try Self.check(port: try Self.port(c.server), tls: c.tls, send: c.send, expect: c.expect)
        let result = try await Self.run(check)
        #expect(result.error?.code == c.code, "\(result.error?.message ?? "no error")")
        #expect(result.ok == (c.code == nil))
        let present = Set(PhaseTimings.Phase.allCases.filter { result.phases[$0] != nil })
        #expect(present == c.phases)
        Self.expectPhasesAddUp(result)
        #expect(result.check == "hl7-feed" && result.endpointClass == "custom:hl7" && result.http == nil)
        #expect(result.url.hasPrefix("tcp://localhost:"))
        if c.tls && c.code == nil {
            #expect(result.tls?.leaf?.subject == "CN=localhost" && result.tls?.verified == true)
            #expect(try #require(result.phases.tls) > 0)
        } else if !c.tls {
            #expect(result.tls == nil)
            if c.code != .connectRefused { #expect(result.phases.tls == 0, "plain TCP: tls 0, as for http://") }
        }
        if c.send == nil && c.phases.contains(.send) { #expect(result.phases.send == 0, "nothing to send") }
        let expectation = result.assertions.first { $0.name == "expect" }
        #expect((expectation != nil) == (c.expect != nil && (c.code == nil || c.code == .tcpExpect)))
        if let expectation { #expect(expectation.ok == (c.code == nil)) }
        if c.code == .tcpExpect && c.server == .wrong {
            #expect(expectation?.actual == #"500 go away\r\n"#)
            #expect(result.error?.message.contains(#"'500 go away\r\n' does not contain '220'"#) == true)
        }
    }

    /// The reply is read only until `expect` matched: the server's later lines are left unread.
    @Test func readingStopsAtTheMatch() async throws {
        let result = try await Self.run(Self.check(port: try Self.port(.banner), expect: "220"))
        #expect(result.ok)
        #expect(result.assertions == [AssertionOutcome(name: "expect", ok: true)])
    }

    /// A check's timeout bounds the whole exchange, the wait for a silent server included.
    @Test func aSilentServerTimesOutAtTheChecksTimeout() async throws {
        let check = try Self.check(
            port: try Self.port(.silent), send: #"PING\r\n"#, expect: "PONG", timeout: .seconds(1))
        let result = try await Self.run(check)
        #expect(result.error?.code == .timeout)
        #expect(result.error?.message.contains("waiting for a reply") == true, "\(result.error?.message ?? "")")
        #expect(result.phases.total >= 1000 && result.phases.receive == nil)
    }

    /// The TLS policy holds as for https://: a 1.3 minimum passes the lab's TLS 1.3 server.
    @Test func theTLSPolicyApplies() async throws {
        var check = try Self.check(port: try Self.port(.tlsBanner), tls: true, expect: "220")
        check.tls = TLSPolicy(minVersion: "TLSv1.3", spkiSHA256Pins: ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
        let result = try await Self.run(check)
        #expect(result.error?.code == .tlsPin, "\(result.error?.message ?? "no error")")
        #expect(result.phases.send == nil, "nothing is sent on a connection that breaks the policy")
    }

    /// Under a profile every phase pays the emulated round trip: the connection and the reply.
    @Test func aProfileShapesTheConnectionAndTheReply() async throws {
        let rtt = 60.0
        let profile = NetworkProfile(
            name: "test", rttMilliseconds: rtt, downlinkKilobitsPerSecond: 0, uplinkKilobitsPerSecond: 0, source: "")
        let check = try Self.check(port: try Self.port(.echo), send: #"PING\r\n"#, expect: "PING")
        let result = try await Self.run(check, profile: profile)
        #expect(result.ok, "\(result.error?.message ?? "")")
        #expect(result.remoteIP == "127.0.0.1", "the server's address, not the emulated link's")
        #expect(try #require(result.phases.connect) >= rtt * 0.95)
        #expect((result.phases.send ?? 0) + (result.phases.wait ?? 0) >= rtt * 0.95, "one round trip for the reply")
        Self.expectPhasesAddUp(result)
    }

    /// Through an HTTP proxy the connection is a CONNECT tunnel (whatever the port), through
    /// SOCKS5 a SOCKS connection; `proxy` is its own phase.
    @Test(arguments: ["http", "socks5h"])
    func throughAProxy(_ scheme: String) async throws {
        let proxies = try ProxyLab.shared()
        let endpoint = try ProxyEndpoint(
            parsing: ProxyLab.url(scheme, port: scheme == "http" ? proxies.open : proxies.socks))
        let check = try Self.check(
            port: try Self.port(.banner), host: "127.0.0.1", expect: "220",
            connection: ConnectionOptions(proxy: ProxyRoute(endpoint)))
        let result = try await Self.run(check)
        #expect(result.ok, "\(result.error?.message ?? "")")
        #expect(try #require(result.phases.proxy) > 0)
        #expect(result.proxy?.connectStatus == (scheme == "http" ? 200 : nil))
        #expect(result.remoteIP == nil, "through a proxy only the proxy knows the origin's address")
        Self.expectPhasesAddUp(result)
    }

    /// `ip_version` holds: the line servers listen on 127.0.0.1 only, so over IPv6 libcurl's
    /// `localhost` (::1) refuses.
    @Test func theIPVersionIsKept() async throws {
        let port = try Self.port(.banner)
        let v4 = try await Self.run(
            Self.check(port: port, expect: "220", connection: ConnectionOptions(ipVersion: .v4)))
        #expect(v4.ok, "\(v4.error?.message ?? "")")
        #expect(v4.remoteIP == "127.0.0.1", "the address is reported with the family")
        let v6 = try await Self.run(
            Self.check(port: port, expect: "220", connection: ConnectionOptions(ipVersion: .v6)))
        #expect(v6.error?.code == .connectRefused, "\(v6.error?.message ?? "no error")")
    }

    /// `resolve` sends a name to a chosen address, as for https://.
    @Test func aHostOverrideIsUsed() async throws {
        let port = try Self.port(.banner)
        let override = HostOverride(host: "hl7.clinic.invalid", port: port, addresses: ["127.0.0.1"])
        let check = try Self.check(
            port: port, host: "hl7.clinic.invalid", expect: "220", connection: ConnectionOptions(resolve: [override]))
        let result = try await Self.run(check)
        #expect(result.ok, "\(result.error?.message ?? "")")
    }
}
