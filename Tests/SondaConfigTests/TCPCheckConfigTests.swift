import Foundation
import SondaConfig
import SondaCore
import Testing

/// `tcp: {address, tls, send, expect}`: what it loads to, and the file:line:col error each wrong
/// value gets.
@Suite struct TCPCheckConfigTests {
    static func check(_ tcp: String, extra: String = "") -> String {
        """
        checks:
          - name: hl7-feed
            class: custom:hl7
            tcp: \(tcp)
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    static func load(_ text: String, environment: [String: String] = [:]) -> ([CheckSpec]?, ConfigLoader) {
        var loader = ConfigLoader(environment: environment)
        let checks = loader.loadChecks(path: "checks.yaml", text: text)
        return (checks, loader)
    }

    @Test func anMLLPCheckLoadsWithItsEscapesDecoded() throws {
        let (checks, loader) = Self.load(
            Self.check(
                #"{address: "hl7.clinic.lan:2575", tls: true, send: '\x0bMSH|^~\&|SONDA\r\x1c\r', expect: 'MSA|AA'}"#,
                extra: "tls: {min_version: \"1.2\"}\nip_version: 4"))
        let check = try #require(checks?.first, "\(loader.diagnosticsText)")
        guard case .tcp(let target) = check.target else { throw CancellationError() }
        #expect(target.address == TCPAddress(host: "hl7.clinic.lan", port: 2575))
        #expect(target.usesTLS)
        #expect(target.exchange.send == [0x0B] + Array("MSH|^~\\&|SONDA".utf8) + [0x0D, 0x1C, 0x0D])
        #expect(target.exchange.expect == Array("MSA|AA".utf8))
        #expect(check.tls.minVersion == "TLSv1.2" && check.connection.ipVersion == .v4)
        #expect(check.endpointClass == "custom:hl7")
    }

    /// YAML's double quotes decode the same escapes first: both spellings send the same bytes.
    @Test func doubleQuotedAndSingleQuotedEscapesAgree() throws {
        let (double, _) = Self.load(Self.check(#"{address: "[::1]:25", send: "QUIT\r\n", expect: "221"}"#))
        let (single, _) = Self.load(Self.check(#"{address: "[::1]:25", send: 'QUIT\r\n', expect: '221'}"#))
        guard case .tcp(let a) = try #require(double?.first).target,
            case .tcp(let b) = try #require(single?.first).target
        else { throw CancellationError() }
        #expect(a == b && a.exchange.send == Array("QUIT\r\n".utf8) && a.address.host == "::1")
    }

    @Test func aSecretInSendIsRedacted() throws {
        let (checks, loader) = Self.load(
            Self.check(#"{address: "db.lan:5432", send: "AUTH ${env:DB_TOKEN}\r\n", expect: "OK"}"#),
            environment: ["DB_TOKEN": "t0ken-value"])
        #expect(checks?.count == 1, "\(loader.diagnosticsText)")
        #expect(loader.redactor.redact("said AUTH t0ken-value") == "said AUTH [redacted]")
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        var tcp: String
        var extra = ""
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { tcp + " " + extra }
    }

    static let badValues: [BadValue] = [
        BadValue(tcp: #"{address: "hl7.clinic.lan"}"#, line: 4, column: 20, message: "needs a port: host:port"),
        BadValue(
            tcp: #"{address: "hl7.clinic.lan:99999"}"#, line: 4, column: 20, message: "port '99999' is not 1-65535"),
        BadValue(tcp: #"{address: "::1:25"}"#, line: 4, column: 20, message: "an IPv6 address goes in brackets"),
        BadValue(tcp: #"{address: ":25"}"#, line: 4, column: 20, message: "has no host"),
        BadValue(tcp: #"{send: "x"}"#, line: 4, column: 10, message: "missing required key 'address'"),
        BadValue(
            tcp: #"{address: "a.lan:25", tls: maybe}"#, line: 4, column: 37, message: "'tls' must be true or false"),
        BadValue(tcp: #"{address: "a.lan:25", send: 'A\xZZ'}"#, line: 4, column: 38, message: "needs two hex digits"),
        BadValue(tcp: #"{address: "a.lan:25", expect: '\x1'}"#, line: 4, column: 40, message: "needs two hex digits"),
        BadValue(
            tcp: #"{address: "a.lan:25", expect: ""}"#, line: 4, column: 40, message: "'expect' must not be empty"),
        BadValue(tcp: #"{address: "a.lan:25", expct: "220"}"#, line: 4, column: 32, message: "did you mean 'expect'?"),
        BadValue(
            tcp: #"{address: "a.lan:25"}"#, extra: #"tls: {min_version: "1.3"}"#, line: 5, column: 5,
            message: "a TLS policy on a plain tcp check"),
        BadValue(
            tcp: #"{address: "a.lan:25"}"#, extra: "expect: {status: 200}", line: 5, column: 5,
            message: "'expect' inside 'tcp'"),
        BadValue(
            tcp: #"{address: "a.lan:25"}"#, extra: #"http_version: "2""#, line: 5, column: 5,
            message: "'http_version' does not apply to a tcp check"),
        BadValue(
            tcp: #"{address: "a.lan:25"}"#, extra: #"http: {url: "https://a.lan/"}"#, line: 4, column: 5,
            message: "not http and tcp"),
    ]

    @Test(arguments: badValues)
    func wrongValuesAreReportedWhereTheyAre(_ bad: BadValue) throws {
        let (checks, loader) = Self.load(Self.check(bad.tcp, extra: bad.extra))
        #expect(checks == nil)
        let diagnostic = try #require(loader.diagnostics.first, "no diagnostic for \(bad.tcp)")
        #expect(loader.diagnostics.count == 1, "\(loader.diagnosticsText)")
        #expect(diagnostic.file == "checks.yaml")
        #expect((diagnostic.line, diagnostic.column) == (bad.line, bad.column), "\(diagnostic)")
        #expect(diagnostic.message.contains(bad.message), "\(diagnostic.message)")
    }
}
