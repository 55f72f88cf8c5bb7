import Foundation
import SondaKeys
import Yams

/// Reads aggregator.yaml's `audit:` section, reporting each problem at its file:line:col: a
/// signing key that cannot be read or is not a key (and a warning when others may read it), an
/// interval under a second, and a destination that is neither `stdout`, `syslog` nor a file path
/// whose folder exists.
enum AuditConfigReader {
    static let keys = ["signing_key", "checkpoint_every", "checkpoints"]
    static let destinations = "a file path, stdout or syslog"

    static func read(
        _ r: MappingReader, in file: ConfigFile, configPath: String, interpolation: inout Interpolation
    ) -> AuditConfig? {
        let key = signingKey(r, in: file, configPath: configPath, interpolation: &interpolation)
        let destination = destination(r, in: file, configPath: configPath, interpolation: &interpolation)
        var every = AuditConfig.defaultEvery
        if let given = r.duration("checkpoint_every") {
            if given >= .seconds(1) {
                every = given
            } else {
                file.error("'checkpoint_every' must be at least 1s", at: r.value("checkpoint_every"))
            }
        }
        guard let key, let destination else { return nil }
        return AuditConfig(signingKey: key, checkpointEvery: every, destination: destination)
    }

    private static func signingKey(
        _ r: MappingReader, in file: ConfigFile, configPath: String, interpolation: inout Interpolation
    ) -> String? {
        guard let (written, node) = r.scalar("signing_key", required: true) else { return nil }
        let value = interpolation.resolve(written, at: node, in: file, secret: false)
        let path = AggregatorConfigLoader.relative(value, to: configPath)
        guard FileManager.default.isReadableFile(atPath: path) else {
            file.error("cannot read signing_key file '\(value)'", at: node)
            return nil
        }
        guard (try? Ed25519KeyFile.load(from: path, madeBy: "sonda-aggregator keygen")) != nil else {
            file.error(
                "signing_key '\(value)' is not an Ed25519 key file (sonda-aggregator keygen --out FILE makes one)",
                at: node)
            return nil
        }
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & 0o077 != 0 {
            file.warning(
                "signing_key '\(value)' may be read by other users (mode \(String(status.st_mode & 0o777, radix: 8))); "
                    + "chmod 600 it", at: node)
        }
        return path
    }

    private static func destination(
        _ r: MappingReader, in file: ConfigFile, configPath: String, interpolation: inout Interpolation
    ) -> AuditConfig.Destination? {
        guard let (written, node) = r.scalar("checkpoints", required: true, what: destinations) else { return nil }
        let value = interpolation.resolve(written, at: node, in: file, secret: false)
        switch value {
        case "stdout": return .stdout
        case "syslog": return .syslog
        case "":
            file.error("'checkpoints' must be \(destinations)", at: node)
            return nil
        default:
            let path = AggregatorConfigLoader.relative(value, to: configPath)
            var isFolder: ObjCBool = false
            let folder = (path as NSString).deletingLastPathComponent
            guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder),
                isFolder.boolValue
            else {
                file.error("no folder for the checkpoints file '\(value)'", at: node)
                return nil
            }
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                file.error("'checkpoints' names a folder, not a file: '\(value)'", at: node)
                return nil
            }
            return .file(path)
        }
    }
}
