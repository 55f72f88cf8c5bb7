import Foundation
import SondaAggregator
import TestSupport
import Testing
import Yams

/// The aggregator's refusals, as code and status, are the ones the documents promise: the error
/// schema of docs/openapi.yaml and the table of docs/contract.md.
@Suite struct ErrorCodeTests {
    static func document(_ name: String) throws -> String {
        try String(contentsOf: TLSLab.packageRoot.appendingPathComponent("docs/\(name)"), encoding: .utf8)
    }

    @Test func theOpenAPIErrorSchemaListsEveryCode() throws {
        let document = try #require(try Yams.load(yaml: Self.document("openapi.yaml")) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let error = try #require(schemas["Error"] as? [String: Any])
        let properties = try #require(error["properties"] as? [String: Any])
        let body = try #require((properties["error"] as? [String: Any])?["properties"] as? [String: Any])
        let listed = try #require((body["code"] as? [String: Any])?["enum"] as? [String])
        #expect(Set(listed) == Set(AggregatorError.Code.all.map(\.name)))
        #expect(listed.count == AggregatorError.Code.all.count)
    }

    @Test func theContractTableGivesEachCodeItsStatus() throws {
        // Rows "| 400 | `malformed`, `agent_mismatch` | …" of the table after "| status | code | when |".
        let text = try Self.document("contract.md")
        let table = try #require(text.range(of: "| status | code | when |"))
        var documented: [String: Int] = [:]
        for line in text[table.upperBound...].split(separator: "\n").dropFirst() {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let status = Int(cells[0]) else { continue }
            for match in cells[1].matches(of: /`(\w+)`/) { documented[String(match.1)] = status }
        }
        let actual = Dictionary(uniqueKeysWithValues: AggregatorError.Code.all.map { ($0.name, Int($0.status.code)) })
        #expect(documented == actual)
    }

    @Test func allHoldsEveryDeclaredCode() throws {
        // `all` is written by hand; a code declared and left out of it would escape both checks above.
        let source = try String(
            contentsOf: TLSLab.packageRoot.appendingPathComponent("Sources/SondaAggregator/AggregatorError.swift"),
            encoding: .utf8)
        let declared = source.matches(of: /static let \w+ = Code\("(\w+)"/).map { String($0.1) }
        #expect(declared.count > 10, "the declarations were found")
        #expect(Set(declared) == Set(AggregatorError.Code.all.map(\.name)))
    }
}
