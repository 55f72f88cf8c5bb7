import Crypto
import Foundation
import SondaConfig
import Testing

/// aggregator.yaml's `audit:` section: read with its defaults, and every problem reported at its
/// file:line:col (a key file that is missing, not a key or readable by others, an interval under a
/// second, a destination with no folder).
@Suite struct AuditConfigTests {
    let directory = NSTemporaryDirectory() + "sonda-audit-config-\(UUID().uuidString)"

    func write(_ yaml: String, key mode: Int = 0o600) throws -> String {
        try FileManager.default.createDirectory(atPath: directory + "/trail", withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString() + "\n"
        try key.write(toFile: directory + "/audit.key", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: directory + "/audit.key")
        try "not a key\n".write(toFile: directory + "/agent.pub", atomically: true, encoding: .utf8)
        try yaml.write(toFile: directory + "/aggregator.yaml", atomically: true, encoding: .utf8)
        return directory + "/aggregator.yaml"
    }

    @Test func theSectionIsReadWithItsDefaults() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var loader = AggregatorConfigLoader(environment: [:])
        let loaded = loader.load(
            path: try write("audit: {signing_key: audit.key, checkpoints: trail/checkpoints.jsonl}\n"))
        let audit = try #require(loaded?.audit, "\(loader.diagnostics)")
        #expect(loader.diagnostics.isEmpty)
        #expect(audit.signingKey == directory + "/audit.key" && audit.checkpointEvery == .seconds(300))
        #expect(audit.destination == .file(directory + "/trail/checkpoints.jsonl"))
        for (text, destination) in [("stdout", AuditConfig.Destination.stdout), ("syslog", .syslog)] {
            var other = AggregatorConfigLoader(environment: [:])
            let config = other.load(
                path: try write("audit: {signing_key: audit.key, checkpoints: \(text), checkpoint_every: 90s}\n"))
            #expect(
                config?.audit
                    == AuditConfig(
                        signingKey: directory + "/audit.key", checkpointEvery: .seconds(90), destination: destination))
        }
        var none = AggregatorConfigLoader(environment: [:])
        #expect(try #require(none.load(path: try write("listen: 127.0.0.1:9470\n"))).audit == nil)
    }

    @Test func everyProblemIsReportedWithItsPosition() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var loader = AggregatorConfigLoader(environment: [:])
        let path = try write(
            """
            audit:
              signing_key: agent.pub
              checkpoint_every: 500ms
              checkpoints: missing/checkpoints.jsonl
              interval: 5m
            """)
        #expect(loader.load(path: path) == nil)
        #expect(
            loader.diagnostics.map { "\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" } == [
                "2:16: error: signing_key 'agent.pub' is not an Ed25519 key file (sonda-aggregator keygen --out FILE makes one)",
                "3:21: error: 'checkpoint_every' must be at least 1s",
                "4:16: error: no folder for the checkpoints file 'missing/checkpoints.jsonl'",
                "5:3: error: unknown key 'interval' in 'audit'",
            ])
        var missing = AggregatorConfigLoader(environment: [:])
        #expect(missing.load(path: try write("audit:\n  signing_key: nowhere.key\n  checkpoints: trail\n")) == nil)
        #expect(
            missing.diagnostics.map { "\($0.line):\($0.column): \($0.message)" } == [
                "2:16: cannot read signing_key file 'nowhere.key'",
                "3:16: 'checkpoints' names a folder, not a file: 'trail'",
            ])
        var empty = AggregatorConfigLoader(environment: [:])
        #expect(empty.load(path: try write("audit: {checkpoint_every: 1m}\n")) == nil)
        #expect(
            empty.diagnostics.map(\.message) == [
                "'audit' is missing required key 'signing_key'", "'audit' is missing required key 'checkpoints'",
            ])
    }

    @Test func aKeyOthersMayReadIsAWarning() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var loader = AggregatorConfigLoader(environment: [:])
        let config = loader.load(path: try write("audit: {signing_key: audit.key, checkpoints: stdout}\n", key: 0o644))
        #expect(config?.audit != nil)
        #expect(
            loader.diagnostics.map { "\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" } == [
                "1:22: warning: signing_key 'audit.key' may be read by other users (mode 644); chmod 600 it"
            ])
    }
}
