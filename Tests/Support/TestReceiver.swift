import Foundation

/// `test-receiver.py`: a stand-in for the aggregator's ingest that verifies each batch's signature
/// as the aggregator does and keeps every accepted batch, one JSON line each, for the test to read.
/// Optionally down (503) for a while from the first request, or while a file exists; optionally
/// refusing (400) batches that hold a result of one check.
public final class TestReceiver: Sendable {
    public let process: BackgroundProcess
    public let port: Int
    public let outputPath: String
    public var url: String { "http://127.0.0.1:\(port)" }

    /// `publicKey` is the `ed25519:…` text `sonda-agent keygen` prints; files go in `directory`
    /// under `name`.
    public init(
        agent: String, publicKey: String, directory: String, name: String = "receiver", downFor seconds: Double = 0,
        downWhileExists file: String? = nil, refuseCheck: String? = nil
    ) async throws {
        outputPath = "\(directory)/\(name).jsonl"
        var arguments = [
            "python3", TLSLab.packageRoot.appendingPathComponent("Tests/Support/test-receiver.py").path,
            "--port-file", "\(directory)/\(name).port", "--out", outputPath, "--agent", agent,
            "--public-key", publicKey, "--down-for", String(seconds),
        ]
        if let file { arguments += ["--down-while-exists", file] }
        if let refuseCheck { arguments += ["--refuse-check", refuseCheck] }
        process = try BackgroundProcess("/usr/bin/env", arguments)
        port = try await process.port(writtenTo: "\(directory)/\(name).port")
    }

    /// Every batch accepted so far, in order.
    public var batches: [[String: Any]] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Ids of the results accepted so far, in order.
    public var resultIDs: [String] {
        batches.flatMap { ($0["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
    }

    /// The sum of a heartbeat field (`dropped`, `quarantined`) over the accepted batches.
    public func heartbeatTotal(_ field: String) -> Int {
        batches.reduce(0) { $0 + (($1["heartbeat"] as? [String: Any])?[field] as? Int ?? 0) }
    }
}
