import Foundation
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// The SQLite store's statements are literals: a table or column name is never put into SQL at
/// run time (the migration's tables come from the closed `CopiedTable` set instead), so no text
/// from outside can reach a statement. Only the `?` placeholders of an `IN (…)` list are counted
/// out at run time.
@Suite struct StaticSQLTests {
    static let folder = TLSLab.packageRoot.appendingPathComponent("Sources/SondaAggregator/Storage/SQLite")
    /// Keywords in capitals, as statements are written here: a line with one is a line of SQL.
    static let keywords = [
        "SELECT", "FROM", "INSERT", "INTO", "UPDATE", "DELETE", "WHERE", "JOIN", "ORDER BY", "GROUP BY", "LIMIT",
        "VALUES",
    ]

    @Test func theSQLiteStoreInterpolatesNothingButPlaceholdersIntoItsStatements() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter {
            $0.hasSuffix(".swift")
        }
        #expect(files.contains("SQLiteStatusPage.swift") && files.contains("SQLiteExport.swift"), "\(files)")
        var found: [String] = []
        for file in files.sorted() {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where Self.keywords.contains(where: { line.contains($0) }) {
                for match in line.matches(of: /\\\(([^)]*)/) where !match.output.1.hasPrefix("marks(") {
                    found.append("\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(found.isEmpty, "SQL put together at run time:\n\(found.joined(separator: "\n"))")
    }

    /// The check page's histogram query numbers phases in a literal `CASE`; a phase it does not
    /// know would read as NULL.
    @Test func theCheckPagesPhaseNumberingKnowsEveryPhase() {
        #expect(SQLiteStatusPageSQL.phaseOrder == PhaseTimings.Phase.allCases)
    }

    /// PostgreSQL's latency tables have a column per phase, in this order; a new phase needs a
    /// migration that adds its column.
    @Test func postgresHasAColumnForEveryPhase() {
        #expect(PhaseHistograms.phases == PhaseTimings.Phase.allCases)
    }

    /// The migration's statements are made from the table's own names only.
    @Test func theMigrationsStatementsNameOnlyTheClosedTables() {
        #expect(CopiedTable.all.map(\.name).count == 12)
        #expect(CopiedTable.results.countSQL == "SELECT count(*) FROM results")
        #expect(
            CopiedTable.audit.chunkSQL(after: true, through: false)
                == "SELECT seq, seq, at_ms, kind, detail, prev_hash, hash FROM audit WHERE (seq) > (?) ORDER BY seq LIMIT ?"
        )
    }
}
