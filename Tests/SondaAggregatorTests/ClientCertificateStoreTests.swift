import Foundation
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// The client certificate a check presents (mutual TLS) is read back from stored results on both
/// stores: by the alert evaluator (its subject and expiry) and by the status page (a row of its
/// own beside the server's certificate).
@Suite struct ClientCertificateStoreTests {
    @Test(arguments: StoreKind.allCases)
    func theEvaluatorAndTheStatusPageReadTheClientCertificate(_ kind: StoreKind) async throws {
        let store = try await kind.open()
        let f = try IngestFixture()
        let start = try await store.alertStart(since: f.now.addingTimeInterval(-3600))
        let server = CertificateInfo(
            subject: "CN=api.partner.example", issuer: "CN=Partner CA", sans: ["api.partner.example"],
            notBefore: f.now.addingTimeInterval(-86_400), notAfter: f.now.addingTimeInterval(90 * 86_400),
            sha256: "00", spkiSHA256: "AA==")
        var client = server
        (client.subject, client.sans, client.notAfter) = ("CN=sonda-agent", [], f.now.addingTimeInterval(3 * 86_400))
        var result = IngestFixture.result(check: "partner-api", totalMilliseconds: 20, at: f.now)
        result.tls = TLSReport(
            version: "TLSv1.3", cipher: nil, verified: true, leaf: server, chain: [], now: f.now,
            clientCert: ClientCertificateReport(certificate: client, sent: true, now: f.now))
        var plain = IngestFixture.result(check: "partner-api", totalMilliseconds: 20, at: f.now, agent: "rj-clinic-01")
        plain.tls = TLSReport(version: "TLSv1.3", cipher: nil, verified: true, leaf: server, chain: [], now: f.now)
        _ = try await store.write(
            f.batch(results: [result]), rawResults: nil, region: "sao_paulo", now: f.now, auditDetail: nil)
        _ = try await store.write(
            f.batch(agent: "rj-clinic-01", results: [plain]), rawResults: nil, region: "rio_de_janeiro", now: f.now,
            auditDetail: nil)

        // PostgreSQL shows a transaction once every older one on the server has ended.
        var events: [ResultEvent] = []
        _ = await eventually(every: .milliseconds(50)) {
            events = (try? await store.resultEvents(after: start.cursor, limit: 10).events) ?? []
            return events.count == 2
        }
        #expect(events.count == 2)
        // Stored to the millisecond.
        func same(_ a: Date?, _ b: Date) -> Bool { a.map { abs($0.timeIntervalSince(b)) < 0.001 } ?? false }
        let presented = events.compactMap(\.clientCertificate)
        #expect(presented.map(\.subject) == ["CN=sonda-agent"] && same(presented.first?.notAfter, client.notAfter))
        #expect(
            events.allSatisfy { same($0.certificateExpiry, server.notAfter) }, "the server's expiry is read as before")

        let expiry = try await store.certificateExpiry(checks: ["partner-api"], now: f.now)
        let rows = expiry.entries.map { "\($0.host) \(Int($0.daysLeft(now: f.now).rounded())) \($0.agents)" }
        #expect(rows == ["client certificate · sonda-agent 3 1", "api.partner.example 90 2"], "\(rows)")
    }
}
