import Foundation
import SondaCore
import TestSupport
import Testing

@testable import SondaAggregator

/// The client certificate a check presents (mutual TLS) is read back from stored results on both
/// stores: by the alert evaluator (its subject and expiry) and by the status page (a row of its
/// own beside the server's certificate). Stored as ingest stores them (`throughReader`: the batch
/// reader's raw text, whose TLS report PostgreSQL keeps in a column of its own) and as results
/// encoded again (an import, a test), whose report is read from the stored JSON.
@Suite struct ClientCertificateStoreTests {
    @Test(arguments: StoreKind.allCases, [true, false])
    func theEvaluatorAndTheStatusPageReadTheClientCertificate(_ kind: StoreKind, throughReader: Bool) async throws {
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
        var bare = IngestFixture.result(check: "partner-api", totalMilliseconds: 20, at: f.now, agent: "rj-clinic-01")
        bare.tls = nil
        for (batch, region) in [
            (f.batch(results: [result]), "sao_paulo"), (f.batch(agent: "rj-clinic-01", results: [plain, bare]), "rio_de_janeiro"),
        ] {
            let read = throughReader ? try BatchReader.read(Data(try f.body(batch)), maxResults: 10) : nil
            _ = try await store.write(
                read?.batch ?? batch, rawResults: read?.rawResults, region: region, now: f.now, auditDetail: nil)
        }
        if let postgres = store as? PostgresStore {
            // The TLS reports' column: each report's text as sent, '' for none, NULL when not extracted.
            let stored = try await postgres.withConnection { [logger = postgres.logger] connection in
                Array(
                    try await connection.rows(
                        "SELECT coalesce(tls_json, 'NULL') FROM results ORDER BY agent, tls_json", logger: logger
                    ).decode(String.self))
            }
            let texts = stored.map { $0 == "NULL" || $0.isEmpty ? $0 : "{…}" }
            #expect(texts == (throughReader ? ["", "{…}", "{…}"] : ["NULL", "NULL", "NULL"]), "\(stored)")
            if throughReader {
                #expect(stored.allSatisfy { $0.isEmpty || $0.hasPrefix("{\"") && $0.hasSuffix("}") && $0.contains("TLSv1.3") })
            }
        }

        // PostgreSQL shows a transaction once every older one on the server has ended.
        var events: [ResultEvent] = []
        _ = await eventually(every: .milliseconds(50)) {
            events = (try? await store.resultEvents(after: start.cursor, limit: 10).events) ?? []
            return events.count == 3
        }
        #expect(events.count == 3)
        // Stored to the millisecond.
        func same(_ a: Date?, _ b: Date) -> Bool { a.map { abs($0.timeIntervalSince(b)) < 0.001 } ?? false }
        let presented = events.compactMap(\.clientCertificate)
        #expect(presented.map(\.subject) == ["CN=sonda-agent"] && same(presented.first?.notAfter, client.notAfter))
        #expect(
            events.filter { $0.tlsVersion != nil }.allSatisfy { same($0.certificateExpiry, server.notAfter) }
                && events.map(\.tlsVersion).sorted { ($0 ?? "") < ($1 ?? "") } == [nil, "TLSv1.3", "TLSv1.3"],
            "the server's expiry and the TLS version are read as before; a result without TLS has neither")

        let expiry = try await store.certificateExpiry(checks: ["partner-api"], now: f.now)
        let rows = expiry.entries.map { "\($0.host) \(Int($0.daysLeft(now: f.now).rounded())) \($0.agents)" }
        #expect(rows == ["client certificate · sonda-agent 3 1", "api.partner.example 90 2"], "\(rows)")
    }
}
