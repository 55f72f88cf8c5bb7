import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import SondaCore
import Synchronization
import TestSupport
import Testing

/// Authentication before buffering: the signature header and its agent are checked before a byte
/// of the body is read, an unknown agent is told nothing a bad signature is not, and
/// `Expect: 100-continue` invites only a configured agent's body within the size limit.
@Suite struct IngestAdmissionTests {
    @Test func anUnknownAgentAndABadSignatureGetTheSameAnswer() async throws {
        let f = try IngestFixture()
        let body = try f.body(f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)]))
        let t = Int(f.now.timeIntervalSince1970)
        let ghost = "keyid=ghost,t=\(t),sig=" + Data(repeating: 7, count: 64).base64EncodedString()
        let wrongKey = try f.signature(for: body, agent: "sp-clinic-01", signer: "rj-clinic-01")
        let alien = try f.signature(for: body, agent: "sp-clinic-01").replacingOccurrences(
            of: "keyid=sp-clinic-01", with: "keyid=sp-clinic-02")
        try await f.application().test(.router) { client in
            var answers: [String] = []
            for header in [ghost, wrongKey, alien] {
                let response = try await client.post(body, signature: header)
                #expect(response.status == .unauthorized)
                answers.append(String(buffer: response.body))
            }
            #expect(Set(answers).count == 1, "\(answers)")
            #expect(errorCode(try await client.post(body, signature: ghost)) == "bad_signature")
        }
    }

    /// A request body that counts how often it is read.
    final class BodyProbe: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let reads = Atomic<Int>(0)

        struct AsyncIterator: AsyncIteratorProtocol {
            let probe: BodyProbe
            var sent = false

            mutating func next() async throws -> ByteBuffer? {
                probe.reads.add(1, ordering: .relaxed)
                defer { sent = true }
                return sent ? nil : ByteBuffer(repeating: UInt8(ascii: " "), count: 4096)
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(probe: self) }
    }

    @Test(arguments: ["none", "garbled", "unknown", "too large"])
    func aRefusedRequestsBodyIsNeverRead(_ case_: String) async throws {
        let f = try IngestFixture(maxBodyBytes: 2048)
        let endpoint = IngestEndpoint(store: f.store, config: f.config, counters: IngestCounters(), now: { f.now })
        var head = HTTPRequest(method: .post, scheme: "http", authority: "aggregator", path: "/v1/results")
        head.headerFields[.contentLength] = case_ == "too large" ? "4096" : "100"
        let t = Int(f.now.timeIntervalSince1970)
        let header: String? =
            switch case_ {
            case "garbled": "keyid=sp-clinic-01,t=soon"
            case "unknown": "keyid=ghost,t=\(t),sig=" + Data(repeating: 1, count: 64).base64EncodedString()
            case "too large": "keyid=sp-clinic-01,t=\(t),sig=" + Data(repeating: 1, count: 64).base64EncodedString()
            default: nil
            }
        if let header { head.headerFields[HTTPField.Name("Sonda-Signature")!] = header }
        let probe = BodyProbe()
        let error = await #expect(throws: AggregatorError.self) {
            _ = try await endpoint.handle(Request(head: head, body: RequestBody(asyncSequence: probe)))
        }
        #expect(
            error?.status == (case_ == "too large" ? .contentTooLarge : .unauthorized), "\(String(describing: error))")
        #expect(probe.reads.load(ordering: .relaxed) == 0, "the body was read before the request was refused")
    }

    /// curl's own `Expect: 100-continue` against the HTTP server `serve` runs: refused at the head,
    /// nothing is uploaded; a configured agent is invited at once and its batch is stored.
    @Test func expectContinueInvitesOnlyAConfiguredAgentsBodyWithinTheLimit() async throws {
        let f = try IngestFixture(maxBodyBytes: 64 << 10)
        let body = try f.body(f.batch(results: [IngestFixture.result(totalMilliseconds: 10, at: f.now)]))
        let files = f.directory + "/bodies"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        try Data(body).write(to: URL(fileURLWithPath: files + "/batch.json"))
        try Data(repeating: UInt8(ascii: " "), count: 80 << 10).write(to: URL(fileURLWithPath: files + "/large.json"))
        let signed = try f.signature(for: body, agent: "sp-clinic-01")
        let ghost = signed.replacingOccurrences(of: "keyid=sp-clinic-01", with: "keyid=ghost")
        let wrongKey = try f.signature(for: body, agent: "sp-clinic-01", signer: "rj-clinic-01")
        try await f.liveApplication().test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))/v1/results"
            func curl(_ file: String, _ signature: String, expect: Bool = true) async throws -> Curl {
                let output = files + "/answer-\(UUID().uuidString)"
                // Every byte both ways, for a failure that came twice under load: curl read a first
                // line that was not HTTP's where a 413 (ci50) or a 401 (ci118) was expected, and
                // the trace showed nothing received. `--http0.9` keeps whatever comes in the
                // answer (curl still needs a status line for `written`), so the next one shows it.
                let trace = output + ".trace"
                let run = try await ChildProcess.run(
                    "/usr/bin/curl",
                    [
                        "-sS", "--http0.9", "--trace-ascii", trace, "-o", output, "-w", "%{http_code} %{size_upload}",
                        "--expect100-timeout", "60",
                        "-H", "Content-Type: application/json", "-H", "Sonda-Signature: \(signature)",
                        "-H", expect ? "Expect: 100-continue" : "Expect:", "--data-binary", "@\(files)/\(file)", url,
                    ])
                let answer = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                let bytes = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
                return Curl(written: run.stdout, answer: answer, verbose: run.stderr + bytes)
            }
            let unknown = try await curl("batch.json", ghost)
            #expect(unknown.written == "401 0", "refused at the head, nothing uploaded: \(unknown.verbose)")
            let badSignature = try await curl("batch.json", wrongKey, expect: false)
            #expect(
                badSignature.written == "401 \(body.count)" && badSignature.answer == unknown.answer,
                "\(badSignature.written) \(badSignature.answer): \(badSignature.verbose)")
            let large = try await curl("large.json", signed)
            #expect(large.written == "413 0", "\(large.verbose)")
            let accepted = try await curl("batch.json", signed)
            #expect(accepted.verbose.contains("0000: HTTP/1.1 100 Continue"), "\(accepted.verbose)")
            #expect(accepted.written == "200 \(body.count)" && accepted.answer == #"{"accepted":1,"duplicates":0}"#)
        }
    }

    struct Curl {
        /// `-w`: the status and the bytes of body uploaded.
        var written: String
        var answer: String
        var verbose: String
    }
}
