import ArgumentParser
import Foundation
import SondaAggregator
import SondaCLI
import SondaConfig

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite database into an empty PostgreSQL database, to serve from it.",
        discussion: """
            Copies results, rollups, agents, alerts, silences, the audit chain and the alert evaluator's \
            position, after creating the schema. Stop `serve` first: results it stores during the copy are \
            not copied. The SQLite file is only read. Stored results that no longer decode are copied as \
            they are, left out of the rollups and listed at the end with a warning (exit status 0). Exit \
            status: 1 the target is not empty or the copy failed, 64 usage, 66 no usable SQLite file, 69 the \
            server cannot be reached, 78 the server refused (login, database).
            """)

    @Option(
        help: ArgumentHelp(
            "The PostgreSQL database to copy into.",
            discussion: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]; with no password in it, "
                + "$PGPASSWORD is used (so it is not in the process list).",
            valueName: "url"))
    var to: String

    @Option(help: "The aggregator configuration, for its SQLite file.")
    var config: String?

    @Option(help: "The SQLite file (instead of --config).")
    var database: String?

    func run() async throws {
        guard (config == nil) != (database == nil) else {
            throw CommandFailure(message: "give the SQLite database with --config FILE or --database FILE", code: .usage)
        }
        let path = try database ?? ConfigFileLoading.load(config!).0.database
        guard !PostgresURL.isURL(path) else {
            throw CommandFailure(
                message: "the source database is already PostgreSQL; migrate copies a SQLite file", code: .usage)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure(message: "no database at '\(path)'", code: .noInput)
        }
        var url: PostgresURL
        do {
            url = try PostgresURL(to)
        } catch {
            throw CommandFailure(message: "--to: \(error)", code: .usage)
        }
        if url.password == nil, let password = ProcessInfo.processInfo.environment["PGPASSWORD"], !password.isEmpty {
            url.password = password
        }

        let started = ContinuousClock.now
        let summary: StoreMigration.Summary
        do {
            summary = try await StoreMigration.copy(sqlite: path, to: url) { progress in
                FileHandle.standardError.write(
                    Data("migrate: \(progress.table): \(progress.copied) of \(progress.total) rows copied\n".utf8))
            }
        } catch let error as MigrationError {
            throw CommandFailure(message: error.description, code: Self.failure(error.code))
        }
        print(Self.report(summary, from: path, to: url, took: ContinuousClock.now - started), terminator: "")
        if summary.undecodableResults.count > 0 {
            let count = summary.undecodableResults.count
            FileHandle.standardError.write(
                Data(
                    ("sonda-aggregator: warning: \(count) stored result\(count == 1 ? "" : "s") no longer "
                        + "decode\(count == 1 ? "s" : "") and \(count == 1 ? "is" : "are") left out of the rollups "
                        + "(listed above); everything else was copied\n").utf8))
        }
        if let broken = summary.audit.firstBroken {
            throw CommandFailure(
                message: "the copied audit chain is broken at entry \(broken.seq): \(broken.reason) "
                    + "(check the SQLite file: sonda-aggregator audit verify --database \(path))", code: .failed)
        }
    }

    static func failure(_ code: MigrationError.Code) -> CommandFailure.Code {
        switch code {
        case .unusableSource: .noInput
        case .targetUnreachable: .unavailable
        case .targetRefused: .config
        default: .failed
        }
    }

    /// Rows per table, then what became of the audit chain and the evaluator's position.
    static func report(_ summary: StoreMigration.Summary, from path: String, to url: PostgresURL, took: Duration)
        -> String
    {
        let width = summary.tables.map(\.table.count).max() ?? 0
        let digits = summary.tables.map { "\($0.rows)".count }.max() ?? 0
        var lines = ["table".padding(toLength: width, withPad: " ", startingAt: 0) + "  rows"]
        for (table, rows) in summary.tables {
            let count = "\(rows)"
            lines.append(
                table.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + String(repeating: " ", count: max(0, digits - count.count)) + count)
        }
        let total = summary.tables.map(\.rows).reduce(0, +)
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        lines.append("copied \(path) into \(url.redacted): \(total) rows in \(String(format: "%.1f", seconds)) s")
        if summary.audit.firstBroken == nil {
            lines.append("audit chain intact: \(summary.audit.entries) entries")
        }
        let results = summary.tables.first { $0.table == "results" }?.rows ?? 0
        lines.append(
            "alert evaluator: resumes where it was, \(summary.evaluatedResults) results read and "
                + "\(results - summary.evaluatedResults) still to read")
        if summary.foldedResults > 0 {
            lines.append(
                "rollups: \(summary.foldedResults) results the SQLite file had not counted yet (serve did not stop "
                    + "cleanly) were counted into them")
        }
        let undecodable = summary.undecodableResults
        if undecodable.count > 0 {
            let one = undecodable.count == 1
            lines.append(
                "rollups: \(undecodable.count) result\(one ? "" : "s") the SQLite file had not counted yet no longer "
                    + "decode\(one ? "s" : ""): copied as stored, left out of the rollups:")
            lines += undecodable.examples.map { "  results rowid \($0.rowID): \($0.error)" }
            if undecodable.count > undecodable.examples.count {
                lines.append("  and \(undecodable.count - undecodable.examples.count) more")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
