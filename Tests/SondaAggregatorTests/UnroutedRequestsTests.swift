import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
import Yams

@testable import SondaAggregator

/// A request no handler takes gets the JSON error every refusal has: 405 with `Allow` for a path
/// of the API with another method, 404 `not_found` otherwise; and the table that decides which is
/// the API's paths and methods, as docs/openapi.yaml lists them.
@Suite struct UnroutedRequestsTests {
    @Test func anUndeclaredMethodIs405WithAllowAndAnUnknownPath404() async throws {
        let f = try IngestFixture()
        try await f.application().test(.router) { client in
            let trace = try await client.execute(uri: "/v1/uptime?window=1h", method: .init("TRACE")!)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "GET")
            #expect(
                String(buffer: trace.body)
                    == #"{"error":{"code":"method_not_allowed","message":"/v1/uptime answers GET, not TRACE"}}"#)
            let put = try await client.execute(uri: "/v1/silences/abc", method: .put)
            #expect(put.status == .methodNotAllowed && put.headers[.allow] == "DELETE")
            let unknown = try await client.execute(uri: "/v1/nope", method: .get)
            #expect(unknown.status == .notFound)
            #expect(String(buffer: unknown.body) == #"{"error":{"code":"not_found","message":"no endpoint /v1/nope"}}"#)
            // A routed request's own refusal passes through: here the admin check's (no admin
            // tokens, and a router test has no loopback peer).
            let silence = try await client.execute(uri: "/v1/silences/abc", method: .delete)
            #expect(silence.status == .forbidden, "\(String(buffer: silence.body))")
        }
    }

    @Test func theRouteTableIsTheDocumentsPaths() throws {
        let text = try String(
            contentsOf: TLSLab.packageRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(
            paths.flatMap { path, operations in
                let template = path.replacing(/\{(\w+)\}/) { ":" + $0.1 }
                return operations.keys.filter { $0 != "parameters" }.map { "\($0.uppercased()) \(template)" }
            })
        let routed = Set(
            UnroutedRequests<AggregatorRequestContext>.routes.flatMap { route in
                route.methods.map { "\($0.rawValue) \(route.path)" }
            })
        #expect(routed == documented)
    }
}
