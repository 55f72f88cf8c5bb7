import Foundation
import SondaConfig
import SondaCore
import Testing

/// `proxy`, `no_proxy`, `ip_version`, `http_version`, `resolve` and `expect: {http_version}`:
/// what they load to, and the file:line:col error each wrong value gets.
@Suite struct ConnectionConfigTests {
    static func check(_ extra: String, url: String = "https://api.partner.example/v1/health") -> String {
        """
        checks:
          - name: partner-api
            class: patient_data
            http: {url: "\(url)"}
        \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    static func load(_ text: String, environment: [String: String] = [:]) -> ([CheckSpec]?, ConfigLoader) {
        var loader = ConfigLoader(environment: environment)
        let checks = loader.loadChecks(path: "checks.yaml", text: text)
        return (checks, loader)
    }

    @Test func everyKeyLoads() throws {
        let (checks, loader) = Self.load(
            Self.check(
                """
                proxy: "http://clinic:${env:PROXY_PASSWORD}@proxy.clinic.lan:3128"
                no_proxy: "localhost, .internal.lan"
                ip_version: 6
                http_version: "2"
                resolve: {"api.partner.example:443": "10.1.2.3", "cdn.partner.example:443": ["10.1.2.4", "fd00::4"]}
                expect: {http_version: "2"}
                """), environment: ["PROXY_PASSWORD": "p@ss:word/1"])
        let check = try #require(checks?.first, "\(loader.diagnosticsText)")
        let proxy = try #require(check.connection.proxy(for: "https://api.partner.example/"))
        #expect(proxy.url == "http://proxy.clinic.lan:3128")
        #expect(proxy.username == "clinic" && proxy.password == "p@ss:word/1")
        #expect(check.connection.proxy(for: "https://db.internal.lan/") == nil)
        #expect(check.connection.proxy(for: "http://localhost:8080/") == nil)
        #expect(check.connection.ipVersion == .v6)
        #expect(check.connection.httpVersion == .http2)
        #expect(
            check.connection.resolve.map(\.curlEntry).sorted() == [
                "api.partner.example:443:10.1.2.3", "cdn.partner.example:443:10.1.2.4,[fd00::4]",
            ])
        guard case .http(let step) = check.target else { throw CancellationError() }
        #expect(step.expect.contains(.httpVersion("2")))
        #expect(loader.redactor.redact("proxy said p@ss:word/1") == "proxy said [redacted]")
    }

    @Test func aLiteralPasswordIsASecretToo() throws {
        let (checks, loader) = Self.load(Self.check(#"proxy: "socks5h://bob:hunter2-x@127.0.0.1:1080""#))
        let proxy = try #require(checks?.first?.connection.proxy(for: "https://a.example/"))
        #expect(proxy.scheme == .socks5h && proxy.port == 1080)
        #expect(loader.redactor.redact("hunter2-x") == SecretRedactor.mask)
    }

    @Test func theAgentsProxyIsEveryChecksUnlessItSaysOtherwise() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-proxy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("agent.yaml")
        try """
        agent: {id: a1, region: sao_paulo}
        proxy: http://proxy.clinic.lan:3128
        no_proxy: [intranet.lan]
        checks:
          - {name: plain, class: reporting, http: {url: "https://a.example/"}}
          - {name: direct, class: reporting, http: {url: "https://b.example/"}, proxy: none}
          - {name: own, class: reporting, http: {url: "https://c.example/"}, proxy: "socks5h://127.0.0.1:1080"}
          - {name: env, class: reporting, http: {url: "https://d.example/"}, proxy: env}
        """.write(to: file, atomically: true, encoding: .utf8)
        var loader = ConfigLoader(environment: ["HTTPS_PROXY": "http://envproxy.lan:8080", "NO_PROXY": "d.example"])
        let loaded = loader.loadAgent(path: file.path)
        let agent = try #require(loaded, "\(loader.diagnosticsText)")
        func proxy(_ name: String, _ url: String) -> String? {
            agent.check(named: name)?.connection.proxy(for: url)?.url
        }
        #expect(proxy("plain", "https://a.example/") == "http://proxy.clinic.lan:3128")
        #expect(proxy("plain", "https://www.intranet.lan/") == nil)
        #expect(proxy("direct", "https://b.example/") == nil)
        #expect(proxy("own", "https://c.example/") == "socks5h://127.0.0.1:1080")
        #expect(proxy("env", "https://e.example/") == "http://envproxy.lan:8080")
        #expect(proxy("env", "https://d.example/") == nil, "NO_PROXY applies to proxy: env")
        #expect(proxy("env", "http://e.example/") == nil, "HTTPS_PROXY is not http_proxy")
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        var yaml: String
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { yaml }
    }

    static let badValues: [BadValue] = [
        BadValue(
            yaml: "proxy: ftp://proxy.lan:21", line: 5, column: 12,
            message:
                "unsupported proxy scheme 'ftp://' in 'ftp://proxy.lan:21'; use one of http://, https://, socks5://, socks5h://"
        ),
        BadValue(yaml: "proxy: proxy.lan:3128", line: 5, column: 12, message: "needs a scheme"),
        BadValue(
            yaml: "proxy: \"http://u:secret-pw@proxy.lan:3128/path\"", line: 5, column: 12, message: "u:[redacted]@"),
        BadValue(yaml: "no_proxy: localhost", line: 5, column: 5, message: "'no_proxy' goes beside 'proxy'"),
        BadValue(yaml: "ip_version: 5", line: 5, column: 17, message: "ip_version must be auto, 4 or 6, got '5'"),
        BadValue(yaml: "http_version: \"3\"", line: 5, column: 19, message: "HTTP/3 is not supported"),
        BadValue(yaml: "htp_version: \"2\"", line: 5, column: 5, message: "did you mean 'http_version'?"),
        BadValue(
            yaml: "resolve: {\"api.partner.example\": 10.1.2.3}", line: 5, column: 15,
            message: "resolve: 'api.partner.example' must be host:port"),
        BadValue(
            yaml: "resolve: {\"api.partner.example:443\": 10.1.2}", line: 5, column: 42,
            message: "resolve: '10.1.2' is not an IPv4 or IPv6 address"),
        BadValue(
            yaml: "expect: {http_version: \"1.0\"}", line: 5, column: 28,
            message: "expect http_version must be \"1.1\" or \"2\", got '1.0'"),
    ]

    @Test(arguments: badValues)
    func wrongValuesAreReportedWhereTheyAre(_ bad: BadValue) throws {
        let (checks, loader) = Self.load(Self.check(bad.yaml))
        #expect(checks == nil)
        let diagnostic = try #require(loader.diagnostics.first, "no diagnostic for \(bad.yaml)")
        #expect(loader.diagnostics.count == 1, "\(loader.diagnosticsText)")
        #expect(diagnostic.file == "checks.yaml")
        #expect((diagnostic.line, diagnostic.column) == (bad.line, bad.column), "\(diagnostic)")
        #expect(diagnostic.message.contains(bad.message), "\(diagnostic.message)")
        #expect(!diagnostic.message.contains("secret-pw"), "a password in a proxy URL never shows in a message")
    }

    @Test func aProxyFromTheEnvironmentIsCheckedToo() throws {
        let (checks, loader) = Self.load(Self.check("proxy: env"), environment: ["HTTPS_PROXY": "gopher://x.lan:70"])
        #expect(checks == nil)
        #expect(
            loader.diagnosticsText.contains(
                "checks.yaml:5:12: error: proxy: env: HTTPS_PROXY: unsupported proxy scheme 'gopher://'"),
            "\(loader.diagnosticsText)")
    }
}
