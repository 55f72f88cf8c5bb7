import Foundation
import SondaAggregator
import Testing

/// The CLI's tables, rendered from fixed API answers (Tests/Fixtures/tables/NAME.json) and compared
/// with NAME.txt; SONDA_UPDATE_GOLDEN=1 rewrites the .txt files.
@Suite struct ReportTablesGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/tables").standardized

    static func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    static func compare(_ text: String, golden name: String) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SONDA_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(text == (try String(contentsOf: url, encoding: .utf8)), "\(name) differs; got:\n\(text)")
    }

    @Test func budgets() throws {
        let report = try Self.fixture("budgets", as: BudgetReport.self)
        try Self.compare(ReportTables.budgets(report, colour: false), golden: "budgets.txt")
        let coloured = ReportTables.budgets(report, colour: true)
        #expect(coloured.contains("\u{1B}[31mviolated\u{1B}[0m") && coloured.contains("\u{1B}[32mok\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[33mdegraded\u{1B}[0m"))
    }

    @Test func uptime() throws {
        try Self.compare(ReportTables.uptime(try Self.fixture("uptime", as: UptimeReport.self), colour: false), golden: "uptime.txt")
    }

    @Test func agents() throws {
        try Self.compare(ReportTables.agents(try Self.fixture("agents", as: AgentStatus.List.self)), golden: "agents.txt")
    }
}
