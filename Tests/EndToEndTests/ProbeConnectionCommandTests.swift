import Foundation
import TestSupport
import Testing

/// `sonda-agent probe` with `--proxy`, `--ipv4`/`--ipv6`, `--http1.1`/`--http2` and `--resolve`,
/// against the nginx lab and real proxies, as a user runs it.
@Suite struct ProbeConnectionCommandTests {
    static func object(_ run: ChildProcess.Output) throws -> [String: Any] {
        let line = try #require(run.lines.first, "no output; stderr: \(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// libcurl would take a proxy from these by itself; the agent takes none unless told `--proxy env`.
    @Test func theEnvironmentsProxyVariablesAreIgnoredUnlessAskedFor() async throws {
        let lab = try TLSLab.shared()
        let closed = "http://127.0.0.1:\(try refusedLoopbackPort())"
        let environment = ["HTTPS_PROXY": closed, "https_proxy": closed, "http_proxy": closed, "ALL_PROXY": closed]
        let plain = try await ChildProcess.run(
            AgentCLI.binary, ["probe", lab.url("tls13"), "--ca-file", lab.ca, "--json"], environment: environment)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(try Self.object(plain)["proxy"] == nil)
        let fromEnvironment = try await ChildProcess.run(
            AgentCLI.binary, ["probe", lab.url("tls13"), "--ca-file", lab.ca, "--json", "--proxy", "env"],
            environment: environment)
        #expect(fromEnvironment.status == 1)
        let error = try #require(try Self.object(fromEnvironment)["error"] as? [String: Any])
        #expect(error["code"] as? String == "proxy_unreachable")
    }

    @Test func throughAnAuthenticatingProxyThePasswordIsNeverShown() async throws {
        let (lab, proxies) = (try TLSLab.shared(), try ProxyLab.shared())
        let har = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-proxy-\(UUID()).har").path
        defer { try? FileManager.default.removeItem(atPath: har) }
        let proxy = ProxyLab.url("http", port: proxies.authenticated, credentials: true)
        let run = try await AgentCLI.run(
            "probe", lab.url("tls13"), "--ca-file", lab.ca, "--proxy", proxy, "--json", "--har", har)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let object = try Self.object(run)
        let shown = try #require(object["proxy"] as? [String: Any])
        #expect(shown["url"] as? String == "http://127.0.0.1:\(proxies.authenticated)")
        #expect(shown["connect_status"] as? Int == 200)
        let phases = try #require(object["phases_ms"] as? [String: Double])
        #expect(Set(phases.keys) == ["dns", "connect", "proxy", "tls", "send", "wait", "receive", "total"])
        let harText = try String(contentsOfFile: har, encoding: .utf8)
        #expect(harText.contains("_proxy"))
        let waterfall = try await AgentCLI.run("probe", lab.url("tls13"), "--ca-file", lab.ca, "--proxy", proxy)
        #expect(waterfall.stdout.contains("via proxy http://127.0.0.1:\(proxies.authenticated) (127.0.0.1)"))
        #expect(waterfall.stdout.contains("\n  proxy "), "the waterfall has a proxy row:\n\(waterfall.stdout)")
        let wrong = try await AgentCLI.run(
            "probe", lab.url("tls13"), "--ca-file", lab.ca, "--proxy",
            "http://sonda:not-it@127.0.0.1:\(proxies.authenticated)")
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("proxy_auth"), "\(wrong.stdout)")
        for text in [run.stdout, run.stderr, harText, waterfall.stdout, wrong.stdout, wrong.stderr] {
            #expect(!text.contains(ProxyLab.password) && !text.contains("not-it"))
        }
    }

    @Test func httpVersionFlagsChooseWhatIsOffered() async throws {
        let lab = try TLSLab.shared()
        func version(_ flags: [String], _ host: String) async throws -> String? {
            let url = host == "h2c" ? "http://localhost:\(lab.port(host))/" : lab.url(host)
            let run = try await AgentCLI.run(["probe", url, "--ca-file", lab.ca, "--json"] + flags)
            return (try Self.object(run)["http"] as? [String: Any])?["version"] as? String
        }
        #expect(try await version([], "h2") == "2")
        #expect(try await version(["--http1.1"], "h2") == "1.1")
        #expect(try await version(["--http2"], "tls13") == "1.1", "a server without h2 answers in 1.1")
        #expect(try await version(["--http2"], "h2c") == "2")
    }

    @Test func ipFlagsPickTheFamilyAmongResolvedAddresses() async throws {
        let lab = try TLSLab.shared()
        let port = lab.port("dual")
        func remoteIP(_ flag: String) async throws -> String? {
            let run = try await AgentCLI.run(
                "probe", "https://localhost:\(port)/", "--ca-file", lab.ca, "--json", flag,
                "--resolve", "localhost:\(port):127.0.0.1,::1")
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            return (try Self.object(run)["http"] as? [String: Any])?["remote_ip"] as? String
        }
        #expect(try await remoteIP("--ipv6") == "::1")
        #expect(try await remoteIP("--ipv4") == "127.0.0.1")
    }

    @Test(arguments: [
        (["--proxy", "ftp://127.0.0.1:21"], "unsupported proxy scheme 'ftp://'"),
        (["--resolve", "localhost:443"], "--resolve must be HOST:PORT:ADDR"),
        (["--resolve", "localhost:443:not-an-ip"], "--resolve must be HOST:PORT:ADDR"),
        (["--ipv4", "--ipv6"], "give --ipv4 or --ipv6, not both"),
        (["--http1.1", "--http2"], "give --http1.1 or --http2, not both"),
    ])
    func badFlagsAreUsageErrors(_ flags: [String], _ message: String) async throws {
        let run = try await AgentCLI.run(["probe", "https://localhost:1/"] + flags)
        #expect(run.status == 64)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    @Test func validateReportsAWrongIPVersionWithItsPlace() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-ipv-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
        checks:
          - name: api
            class: reporting
            http: {url: "https://api.example/"}
            ip_version: 5
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await AgentCLI.run("validate", file)
        #expect(run.status == 78)
        #expect((run.stdout + run.stderr).contains("\(file):5:17: error: ip_version must be auto, 4 or 6, got '5'"))
    }
}
