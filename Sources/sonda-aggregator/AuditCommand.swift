import ArgumentParser
import Crypto
import Foundation
import SondaAggregator
import SondaCLI
import SondaConfig
import SondaKeys

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit hash chain.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Walk the chain, read-only; name the first tampered entry (exit 1), and hold it against "
                + "signed checkpoints (2 truncated, 3 rewritten, 4 bad signature, 5 unsigned head, 6 not a checkpoint)."
        )

        @Option(help: "The aggregator configuration, for the database path (and the key, with --checkpoints).")
        var config: String?

        @Option(help: "The database file (instead of --config).")
        var database: String?

        @Option(help: "A file of signed checkpoints (audit: checkpoints:); may be given more than once.")
        var checkpoints: [String] = []

        @Option(
            help: ArgumentHelp(
                "The aggregator's public key (ed25519:BASE64, as keygen prints it) or a file holding it; may be "
                    + "given more than once. Default: derived from audit: signing_key in --config."))
        var publicKey: [String] = []

        @Flag(help: "Entries after the latest checkpoint are an error (exit 5), not a warning: after an orderly stop.")
        var requireSignedHead = false

        func run() async throws {
            let loaded = try config.map { try ConfigFileLoading.load($0).0 }
            guard let path = database ?? loaded?.database else {
                throw CommandFailure(message: "give --config FILE or --database FILE", code: .usage)
            }
            guard PostgresURL.isURL(path) || FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(message: "no database at '\(path)'", code: .noInput)
            }
            var review: CheckpointReview?
            if !checkpoints.isEmpty {
                review = try readCheckpoints(keys: try keys(config: loaded))
            } else if !publicKey.isEmpty || requireSignedHead {
                throw CommandFailure(
                    message: "--public-key and --require-signed-head need --checkpoints FILE", code: .usage)
            }
            let verification: AuditLog.Verification
            do {
                verification = try await StoreOpening.verifyAudit(path, noting: review?.signedCounts ?? [])
            } catch let error as PostgresStoreError {
                throw CommandFailure(message: "\(error)", code: .unavailable)
            }
            guard let review else {
                if let broken = verification.firstBroken {
                    throw CommandFailure(
                        message: "audit chain broken at entry \(broken.seq): \(broken.reason)", code: .failed)
                }
                print(Self.intact(verification))
                return
            }
            try report(review, verification)
        }

        func report(_ review: CheckpointReview, _ verification: AuditLog.Verification) throws {
            let (findings, warnings) = review.review(verification, requireSignedHead: requireSignedHead)
            for warning in warnings {
                FileHandle.standardError.write(Data("sonda-aggregator: warning: \(warning)\n".utf8))
            }
            guard let worst = findings.min(by: { $0.code < $1.code }) else {
                print(Self.intact(verification))
                // Of the checkpoints signing the most entries, the last one read.
                let most = review.signed.map(\.checkpoint.entries).max()
                let latest = review.signed.last { $0.checkpoint.entries == most }?.checkpoint
                print(
                    "checkpoints: \(review.signed.count) signed by key \(review.keyIDs.joined(separator: ", ")) agree "
                        + "with the chain"
                        + (latest.map { "; the latest (\($0.at), \($0.reason.rawValue)) signs \($0.entries) entries" }
                            ?? ""))
                return
            }
            for finding in findings where finding != worst {
                FileHandle.standardError.write(Data("sonda-aggregator: error: \(finding)\n".utf8))
            }
            throw CommandFailure(message: worst.message, code: .init(documented: worst.code))
        }

        func readCheckpoints(keys: [Curve25519.Signing.PublicKey]) throws -> CheckpointReview {
            var review = CheckpointReview(keys: keys)
            for file in checkpoints {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure(message: "cannot read checkpoints file '\(file)'", code: .noInput)
                }
                review.read(String(decoding: data, as: UTF8.self), file: file)
            }
            return review
        }

        /// The keys to check signatures with: `--public-key`, else the one `audit: signing_key` holds.
        func keys(config: AggregatorConfig?) throws -> [Curve25519.Signing.PublicKey] {
            if publicKey.isEmpty {
                guard let audit = config?.audit else {
                    throw CommandFailure(
                        message: "give --public-key (keygen printed it), or --config with an audit: signing_key",
                        code: .usage)
                }
                do {
                    let key = try Ed25519KeyFile.load(from: audit.signingKey, madeBy: "sonda-aggregator keygen")
                    return [key.publicKey]
                } catch {
                    throw CommandFailure(message: "\(error)", code: .noInput)
                }
            }
            return try publicKey.map { given in
                if let key = Ed25519KeyFile.publicKey(text: given) { return key }
                guard let text = try? String(contentsOfFile: given, encoding: .utf8) else {
                    throw CommandFailure(message: "cannot read public key file '\(given)'", code: .noInput)
                }
                guard let key = Ed25519KeyFile.publicKey(text: text) else {
                    throw CommandFailure(
                        message: "'\(given)' holds no ed25519:BASE64 public key (sonda-aggregator keygen prints it)",
                        code: .usage)
                }
                return key
            }
        }

        static func intact(_ verification: AuditLog.Verification) -> String {
            let queued =
                verification.queued == 0 ? "" : " (and \(verification.queued) batch entries queued to join it)"
            return "audit chain intact: \(verification.entries) entries\(queued)"
        }
    }
}
