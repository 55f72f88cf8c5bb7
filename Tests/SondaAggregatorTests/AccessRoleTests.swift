import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import TestSupport
import Testing

/// Who may do what: read tokens read, admin tokens also create and expire silences; without
/// admin tokens, changes come from loopback only.
@Suite struct AccessRoleTests {
    static let admin = "admin-token-0123456789abcdef"
    static let read = "read-token"
    static let silence = ByteBuffer(string: #"{"matchers":{"check":"booking"},"duration":"2h","comment":"deploy"}"#)

    static func fixture(admin: [String]) throws -> IngestFixture {
        var f = try IngestFixture(readTokens: [read])
        f.config.adminTokens = admin
        return f
    }

    static func bearer(_ token: String?) -> HTTPFields {
        token.map { [.authorization: "Bearer \($0)"] } ?? [:]
    }

    @Test func readTokensReadAndOnlyAdminTokensChangeSilences() async throws {
        let f = try Self.fixture(admin: [Self.admin])
        try await f.application().test(.router) { client in
            for (token, status, code) in [
                (nil, HTTPResponse.Status.unauthorized, "unauthorized"), ("not-a-token", .unauthorized, "unauthorized"),
                (Self.read, .forbidden, "forbidden"),
            ] {
                let refused = try await client.execute(
                    uri: "/v1/silences", method: .post, headers: Self.bearer(token), body: Self.silence)
                #expect(refused.status == status && errorCode(refused) == code, "\(String(buffer: refused.body))")
            }
            let created = try await client.execute(
                uri: "/v1/silences", method: .post, headers: Self.bearer(Self.admin), body: Self.silence)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let id = try JSONDecoder().decode(SilenceEntry.self, from: Data(buffer: created.body)).id
            for token in [Self.read, Self.admin] {
                let listed = try await client.execute(uri: "/v1/silences", method: .get, headers: Self.bearer(token))
                let silences = try JSONDecoder().decode(SilenceList.self, from: Data(buffer: listed.body)).silences
                #expect(silences.map(\.id) == [id], "both roles read")
            }

            let readExpire = try await client.execute(
                uri: "/v1/silences/\(id)", method: .delete, headers: Self.bearer(Self.read))
            #expect(readExpire.status == .forbidden && errorCode(readExpire) == "forbidden")
            let expired = try await client.execute(
                uri: "/v1/silences/\(id)", method: .delete, headers: Self.bearer(Self.admin))
            #expect(expired.status == .ok, "\(String(buffer: expired.body))")
            let entry = try JSONDecoder().decode(SilenceEntry.self, from: Data(buffer: expired.body))
            #expect(entry.id == id && entry.endsAt == Timestamp.format(f.now))
            let listed = try await client.execute(uri: "/v1/silences", method: .get, headers: Self.bearer(Self.read))
            #expect(try JSONDecoder().decode(SilenceList.self, from: Data(buffer: listed.body)).silences.isEmpty)
            let again = try await client.execute(
                uri: "/v1/silences/\(id)", method: .delete, headers: Self.bearer(Self.admin))
            #expect(again.status == .notFound && errorCode(again) == "not_found")
        }
        let audit = try await f.store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit WHERE kind = 'silence' ORDER BY seq")
        }
        #expect(audit.count == 2 && audit[1].hasPrefix("expired id="), "creation and expiry are on the chain: \(audit)")
    }

    @Test func withoutAdminTokensChangesAreTakenFromLoopbackOnly() async throws {
        let f = try Self.fixture(admin: [])
        // The router test client has no peer address: a request from anywhere but loopback.
        try await f.application().test(.router) { client in
            let refused = try await client.execute(
                uri: "/v1/silences", method: .post, headers: Self.bearer(Self.read), body: Self.silence)
            #expect(refused.status == .forbidden && errorCode(refused) == "forbidden")
            #expect(String(buffer: refused.body).contains("loopback"))
        }
        // On one kept-alive connection, as an agent or a script reuses it: the refusal comes before
        // the body is sent, and the body that follows is read and dropped, not taken for a request.
        try await f.liveApplication().test(.live) { client in
            let port = try #require(client.port)
            let answers = await onThread { () -> [(status: Int, body: String)?] in
                guard let raw = try? RawHTTPClient(port: port) else { return [] }
                defer { raw.close() }
                let body = String(buffer: Self.silence)
                let head = "POST /v1/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
                raw.send(head + "\r\n")
                let noToken = raw.readResponse()
                raw.send(body)
                raw.send(head + "Authorization: Bearer \(Self.read)\r\n\r\n" + body)
                return [noToken, raw.readResponse()]
            }
            #expect(answers.count == 2 && answers[0]?.status == 401, "loopback still needs a read token: \(answers)")
            #expect(answers.count == 2 && answers[1]?.status == 201, "the next request is served: \(answers)")
        }
    }

    @Test func aTokenGrantsItsHighestRoleWhateverItsLength() {
        let tokens = AccessTokens(read: ["r", "shared-prefix"], admin: [Self.admin])
        #expect(tokens.role(of: "r") == .read && tokens.role(of: "shared-prefix") == .read)
        #expect(tokens.role(of: Self.admin) == .admin)
        for other in ["", "R", "shared", "shared-prefix ", String(Self.admin.dropLast()), Self.admin + "f"] {
            #expect(tokens.role(of: other) == nil, "'\(other)'")
        }
        #expect(tokens.readNeedsToken && tokens.hasAdminTokens)
        let open = AccessTokens(read: [], admin: [Self.admin])
        #expect(!open.readNeedsToken && open.role(of: Self.admin) == .admin)
    }
}
