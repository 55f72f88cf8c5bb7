import Foundation
import SondaAggregator
import TestSupport
import Testing

/// The aggregator's HTTP client (alert deliveries, the CLI) against the lab's nginx: whole answers
/// up to a limit and an error past it, a receiver's answer cut to its first bytes, a private CA
/// trusted only when given, and a refused connection said in words.
@Suite struct OutboundHTTPTests {
    @Test func wholeAnswersUpToTheLimitAndAnErrorPastIt() async throws {
        let lab = try TLSLab.shared()
        let url = lab.url("http", "/big.bin")  // 500 000 bytes
        let whole = try await OutboundHTTP.shared.send(.GET, url, timeout: .seconds(60))
        #expect(whole.status == 200 && whole.body.count == 500_000)
        let exact = try await OutboundHTTP.shared.send(.GET, url, timeout: .seconds(60), keep: .whole(upTo: 500_000))
        #expect(exact.body.count == 500_000, "an answer of exactly the limit is whole")
        await #expect(throws: OutboundHTTP.Failure.self) {
            try await OutboundHTTP.shared.send(.GET, url, timeout: .seconds(60), keep: .whole(upTo: 499_999))
        }
        let prefix = try await OutboundHTTP.shared.send(.POST, lab.url("http", "/big-answer"), body: [], timeout: .seconds(60), keep: .prefix(10))
        #expect(prefix.status == 200 && prefix.body == Array("0123456789".utf8))
    }

    @Test func aPrivateCAIsTrustedOnlyWhenGiven() async throws {
        let lab = try TLSLab.shared()
        let url = lab.url("tls13", "/")
        do {
            _ = try await OutboundHTTP.shared.send(.GET, url, timeout: .seconds(30))
            Issue.record("the lab's CA is not in the system store")
        } catch {
            #expect("\(error)".hasPrefix("TLS: "), "\(error)")
        }
        let client = OutboundHTTP(caFile: lab.ca)
        let answer = try await client.send(.GET, url, timeout: .seconds(30))
        await client.shutdown()
        #expect(answer.status == 200 && answer.body == Array("ok\n".utf8))
    }

    @Test func aRefusedConnectionIsSaidInWords() async throws {
        let refusing = try RefusingPort()
        do {
            _ = try await OutboundHTTP.shared.send(.GET, "http://127.0.0.1:\(refusing.port)/", timeout: .seconds(30))
            Issue.record("nothing listens there")
        } catch {
            #expect("\(error)" == "connection refused", "\(error)")
        }
    }
}
