import Foundation
import TestSupport
import Testing

/// The built `sonda-aggregator`: `silence add`, `silence list` and `silence expire` against `serve`
/// with read and admin tokens configured.
@Suite(.serialized) struct SilenceCommandTests {
    static let binary = TLSLab.builtBinary("sonda-aggregator")
    static let admin = "admin-token-0123456789abcdef"

    static func cli(_ arguments: [String], admin: String? = nil) async throws -> ChildProcess.Output {
        try await ChildProcess.run(binary, arguments, environment: ["SONDA_ADMIN_TOKEN": admin ?? ""])
    }

    @Test func onlyAnAdminTokenAddsAndExpiresSilences() async throws {
        let directory = NSTemporaryDirectory() + "sonda-silences-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = [
            "listen: 127.0.0.1:0", "database: sonda.sqlite", "read_tokens: [reader]",
            #"admin_tokens: ["${env:SONDA_ADMIN_TOKEN}"]"#,
        ]
        try config.joined(separator: "\n").write(
            toFile: "\(directory)/aggregator.yaml", atomically: true, encoding: .utf8)
        let aggregator = try BackgroundProcess(
            Self.binary, ["serve", "--config", "\(directory)/aggregator.yaml", "--port-file", "\(directory)/port"],
            environment: ["SONDA_ADMIN_TOKEN": Self.admin])
        let server = try await aggregator.port(writtenTo: "\(directory)/port")
        let options = ["--server", "http://127.0.0.1:\(server)"]
        let add = ["silence", "add"] + options + ["--matcher", "check=booking", "--for", "2h"]

        let byReader = try await Self.cli(add + ["--token", "reader"])
        #expect(
            byReader.status == 1 && byReader.stderr.contains("403: a read token cannot change"), "\(byReader.stderr)")
        let added = try await Self.cli(add + ["--json"], admin: Self.admin)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(
            (try? JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let listed = try await Self.cli(["silence", "list"] + options + ["--token", "reader"])
        #expect(listed.stdout.contains(String(id.prefix(8))), "\(listed.stdout)\(listed.stderr)")

        let readerExpires = try await Self.cli(["silence", "expire", id] + options + ["--token", "reader"])
        #expect(readerExpires.status == 1 && readerExpires.stderr.contains("403"), "\(readerExpires.stderr)")
        let expired = try await Self.cli(["silence", "expire", id] + options, admin: Self.admin)
        #expect(
            expired.status == 0 && expired.stdout.contains(String(id.prefix(8))), "\(expired.stdout)\(expired.stderr)")
        let after = try await Self.cli(["silence", "list"] + options + ["--token", "reader", "--json"])
        #expect(after.stdout == #"{"silences":[]}"# + "\n", "\(after.stdout)")
        let again = try await Self.cli(["silence", "expire", id] + options, admin: Self.admin)
        #expect(again.status == 1 && again.stderr.contains("404: no active or scheduled silence"), "\(again.stderr)")

        aggregator.signal(SIGTERM)
        #expect(await aggregator.wait() == 0, "\(aggregator.log)")
    }
}
