import ArgumentParser
import SondaCLI
import Foundation
import SondaAggregator
import SondaConfig

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit hash chain.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Walk the chain; name the first tampered entry (exit 1).")

        @Option(help: "The aggregator configuration, for the database path.")
        var config: String?

        @Option(help: "The database file (instead of --config).")
        var database: String?

        func run() async throws {
            guard let path = try database ?? config.map({ try ConfigFileLoading.load($0).0.database }) else {
                throw CommandFailure(message: "give --config FILE or --database FILE", code: 64)
            }
            guard PostgresURL.isURL(path) || FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(message: "no database at '\(path)'", code: 66)
            }
            let verification: AuditLog.Verification
            do {
                verification = try await StoreOpening.verifyAudit(path)
            } catch let error as PostgresStoreError {
                throw CommandFailure(message: "\(error)", code: 69)
            }
            if let broken = verification.firstBroken {
                throw CommandFailure(message: "audit chain broken at entry \(broken.seq): \(broken.reason)", code: 1)
            }
            let queued = verification.queued == 0 ? "" : " (and \(verification.queued) batch entries queued to join it)"
            print("audit chain intact: \(verification.entries) entries\(queued)")
        }
    }
}
