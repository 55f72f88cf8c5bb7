import Foundation
import SondaCore

/// Reads a `POST /v1/results` body straight from its bytes into a `ResultBatch`, keeping each
/// result's exact JSON text for storage.
///
/// JSONDecoder was a third of ingest's CPU (a tree of its own, then Codable's containers per
/// field); this reader makes one pass and is checked against it by a differential fuzz test: the
/// same bodies are accepted with the same values, and refusals name the field the same way
/// (`$.results[3].phases_ms.total must be a number`). Strict on syntax, tolerant of what a newer
/// agent may add: unknown keys (phases included) are skipped but stay in the stored text, an
/// error code this version does not know is kept as sent, a budget of an unknown phase reads as nil.
public struct BatchReader {
    /// A refusal: `tooLarge` for too many results, `malformed` otherwise.
    public struct Failure: Error, Sendable {
        public var message: String
        public var tooLarge = false
    }

    public struct Batch: Sendable {
        public var batch: ResultBatch
        /// Each result's JSON, byte for byte as the agent sent it.
        public var rawResults: RawResults
    }

    /// The body as a batch, or the reason it is not one.
    public static func read(_ body: Data, maxResults: Int) throws(Failure) -> Batch {
        var result: Result<(ResultBatch, [Range<Int>], [Range<Int>?]), Failure>!
        body.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            // The path is kept only to name the field in a refusal, so the first pass goes without
            // it (pushing and popping it around every field was a tenth of reading a batch), and a
            // body it refuses is read again with it, to the same refusal.
            result = parse(bytes, maxResults: maxResults, tracksPath: false)
            if case .failure = result { result = parse(bytes, maxResults: maxResults, tracksPath: true) }
        }
        let (batch, ranges, tlsRanges) = try result.get()
        return Batch(batch: batch, rawResults: RawResults(body: body, ranges: ranges, tlsRanges: tlsRanges))
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxResults: Int, tracksPath: Bool) -> Result<
        (ResultBatch, [Range<Int>], [Range<Int>?]), Failure
    > {
        Result { () throws(Failure) in
            var reader = BatchReader(bytes: bytes, maxResults: maxResults, tracksPath: tracksPath)
            do {
                let batch = try reader.batch()
                reader.skipSpace()
                guard reader.position == reader.bytes.count else {
                    throw reader.syntax("unexpected text after the batch")
                }
                return batch
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(message: "body is not a result batch: \(error)")
            }
        }
    }

    public static func read(_ body: UnsafeRawBufferPointer, maxResults: Int) throws(Failure) -> Batch {
        try read(Data(body), maxResults: maxResults)
    }

    enum PathItem {
        case key(StaticString)
        case index(Int)
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let maxResults: Int
    var position = 0
    /// Where the value being read is (with `tracksPath`), for refusals' messages.
    var path: [PathItem] = []
    let tracksPath: Bool
    /// Where the last result's `tls` object is (nil: it has none), for `RawResults.tlsTexts`.
    var tlsRange: Range<Int>?
    static let maxDepth = 64

    init(bytes: UnsafeBufferPointer<UInt8>, maxResults: Int, tracksPath: Bool) {
        self.bytes = bytes
        self.maxResults = maxResults
        self.tracksPath = tracksPath
        if tracksPath { path.reserveCapacity(8) }
    }

    // MARK: the batch's shape (mirrors the Codable types field for field)

    /// The batch, each result's range in the body, and the range of each result's TLS report.
    mutating func batch() throws -> (ResultBatch, [Range<Int>], [Range<Int>?]) {
        var agent: String?, batchID: String?, sentAt: Date?, heartbeat: Heartbeat?
        var results: [ProbeResult]?
        var raw: [Range<Int>] = []
        var tls: [Range<Int>?] = []
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "agent" {
                agent = try field("agent") { r in try r.string() }
            } else if key == "batch_id" {
                batchID = try field("batch_id") { r in try r.string() }
            } else if key == "sent_at" {
                sentAt = try field("sent_at") { r in try r.date() }
            } else if key == "heartbeat" {
                heartbeat = try field("heartbeat") { r in try r.heartbeat() }
            } else if key == "results" {
                var list: [ProbeResult] = []
                raw = []
                tls = []
                try field("results") { r in
                    try r.array { r, index in
                        guard index < r.maxResults else {
                            throw Failure(
                                message: "batch has more than \(r.maxResults) results; the limit is \(r.maxResults)",
                                tooLarge: true)
                        }
                        r.skipSpace()
                        let start = r.position
                        list.append(try r.result())
                        raw.append(start..<r.position)
                        tls.append(r.tlsRange)
                        if index == 0 {
                            // Room for as many more as the rest of the body holds of its size, and an
                            // eighth more: results a few bytes longer than the first made the last
                            // append move the whole array (half of the reader's page faults).
                            let estimate = 1 + (r.bytes.count - r.position) / max(r.position - start, 64)
                            let room = min(r.maxResults, estimate + estimate / 8 + 1)
                            list.reserveCapacity(room)
                            raw.reserveCapacity(room)
                            tls.reserveCapacity(room)
                        }
                    }
                }
                results = list
            } else {
                try skipValue(depth: 1)
            }
        }
        let batch = ResultBatch(
            agent: try required(agent, "agent"), batchID: try required(batchID, "batch_id"),
            sentAt: try required(sentAt, "sent_at"), results: try required(results, "results"),
            heartbeat: try required(heartbeat, "heartbeat"))
        return (batch, raw, tls)
    }

    mutating func heartbeat() throws -> Heartbeat {
        var version: String?, configHash: String?, spoolDepth: Int?, dropped: Int?, quarantined: Int?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "version" {
                version = try field("version") { r in try r.string() }
            } else if key == "config_hash" {
                configHash = try field("config_hash") { r in try r.string() }
            } else if key == "spool_depth" {
                spoolDepth = try field("spool_depth") { r in try r.int() }
            } else if key == "dropped" {
                dropped = try field("dropped") { r in try r.int() }
            } else if key == "quarantined" {
                quarantined = try field("quarantined") { r in try r.optional { r in try r.int() } }
            } else {
                try skipValue(depth: 1)
            }
        }
        return Heartbeat(
            version: try required(version, "version"), configHash: try required(configHash, "config_hash"),
            spoolDepth: try required(spoolDepth, "spool_depth"), dropped: try required(dropped, "dropped"),
            quarantined: quarantined)
    }

    mutating func result() throws -> ProbeResult {
        var id: String?, startedAt: Date?, ok: Bool?, phases: PhaseTimings?, assertions: [AssertionOutcome]?
        var check: String?, step: String?, agent: String?, region: String?, profile: String?, endpointClass: String?
        var error: ProbeError?, http: HTTPInfo?, budget: BudgetOutcome?
        // The TLS report in an array, 8 bytes: a 272-byte `TLSReport?` here was copied at every
        // key of every result, a fifth of the reader's time.
        var tls: [TLSReport] = []
        tlsRange = nil
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "id" {
                id = try field("id") { r in try r.string() }
            } else if key == "check" {
                check = try field("check") { r in try r.optional { r in try r.string() } }
            } else if key == "step" {
                step = try field("step") { r in try r.optional { r in try r.string() } }
            } else if key == "agent" {
                agent = try field("agent") { r in try r.optional { r in try r.string() } }
            } else if key == "region" {
                region = try field("region") { r in try r.optional { r in try r.string() } }
            } else if key == "profile" {
                profile = try field("profile") { r in try r.optional { r in try r.string() } }
            } else if key == "class" {
                endpointClass = try field("class") { r in
                    try r.optional { r in try r.string() }
                }
            } else if key == "started_at" {
                startedAt = try field("started_at") { r in try r.date() }
            } else if key == "ok" {
                ok = try field("ok") { r in try r.bool() }
            } else if key == "error" {
                error = try field("error") { r in try r.optional { r in try r.probeError() } }
            } else if key == "phases_ms" {
                phases = try field("phases_ms") { r in try r.phases() }
            } else if key == "http" {
                http = try field("http") { r in try r.optional { r in try r.httpInfo() } }
            } else if key == "tls" {
                tls = try field("tls") { r in
                    let start = r.position
                    guard let report = try r.optional({ r in try r.tlsReport() }) else { return [] }
                    r.tlsRange = start..<r.position
                    return [report]
                }
            } else if key == "assertions" {
                assertions = try field("assertions") { r in
                    var list: [AssertionOutcome] = []
                    try r.array { r, _ in list.append(try r.assertion()) }
                    return list
                }
            } else if key == "budget" {
                budget = try field("budget") { r in try r.optional { r in try r.budgetOutcome() } } ?? nil
            } else {
                try skipValue(depth: 1)
            }
        }
        var result = ProbeResult(
            id: try required(id, "id"), check: check, step: step, agent: agent, region: region, profile: profile,
            endpointClass: endpointClass, startedAt: try required(startedAt, "started_at"), error: error,
            phases: try required(phases, "phases_ms"), http: http, tls: tls.first,
            assertions: try required(assertions, "assertions"), budget: budget)
        result.ok = try required(ok, "ok")
        return result
    }

    mutating func probeError() throws -> ProbeError {
        var code: ProbeError.Code?, message: String?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "code" {
                code = try field("code") { r in
                    let start = r.position
                    let text = try r.string()
                    guard let code = ProbeError.Code(rawValue: text) else {
                        r.position = start
                        throw r.failure(
                            "must be a code of lowercase letters, digits and '_' (at most "
                                + "\(ProbeError.Code.maxLength)), not '\(text)'")
                    }
                    return code
                }
            } else if key == "message" {
                message = try field("message") { r in try r.string() }
            } else {
                try skipValue(depth: 1)
            }
        }
        return ProbeError(try required(code, "code"), try required(message, "message"))
    }

    /// `phases_ms` keys in PhaseTimings' order, `total` last.
    static let phaseNames: [StaticString] = ["dns", "connect", "proxy", "tls", "send", "wait", "receive", "total"]

    mutating func phases() throws -> PhaseTimings {
        // On the stack: an array here was an allocation per result.
        try withUnsafeTemporaryAllocation(of: Double?.self, capacity: 8) { values in
            values.initialize(repeating: nil)
            try beginObject()
            var object = ObjectState(start: position)
            while let key = try nextKey(&object) {
                let names = Self.phaseNames
                guard let index = names.firstIndex(where: { key == $0 }) else {
                    try skipValue(depth: 1)
                    continue
                }
                values[index] = try field(names[index]) { r in
                    index == 7 ? try r.double() : try r.optional { r in try r.double() }
                }
            }
            return PhaseTimings(
                dns: values[0], connect: values[1], proxy: values[2], tls: values[3], send: values[4], wait: values[5],
                receive: values[6], total: try required(values[7], "total"))
        }
    }

    mutating func httpInfo() throws -> HTTPInfo {
        var status: Int?, version: String?, redirects: Int?, redirectMs: Double?, bodyBytes: Int?
        var sha: String?, remoteIP: String?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "status" {
                status = try field("status") { r in try r.int() }
            } else if key == "version" {
                version = try field("version") { r in try r.string() }
            } else if key == "redirects" {
                redirects = try field("redirects") { r in try r.int() }
            } else if key == "redirect_ms" {
                redirectMs = try field("redirect_ms") { r in try r.double() }
            } else if key == "body_bytes" {
                bodyBytes = try field("body_bytes") { r in try r.int() }
            } else if key == "body_sha256" {
                sha = try field("body_sha256") { r in try r.optional { r in try r.string() } }
            } else if key == "remote_ip" {
                remoteIP = try field("remote_ip") { r in try r.optional { r in try r.string() } }
            } else {
                try skipValue(depth: 1)
            }
        }
        return HTTPInfo(
            status: try required(status, "status"), version: try required(version, "version"),
            redirects: try required(redirects, "redirects"), redirectMilliseconds: try required(redirectMs, "redirect_ms"),
            bodyBytes: try required(bodyBytes, "body_bytes"), bodySHA256: sha, remoteIP: remoteIP)
    }

    mutating func assertion() throws -> AssertionOutcome {
        var name: String?, ok: Bool?, actual: String?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "name" {
                name = try field("name") { r in try r.string() }
            } else if key == "ok" {
                ok = try field("ok") { r in try r.bool() }
            } else if key == "actual" {
                actual = try field("actual") { r in try r.optional { r in try r.string() } }
            } else {
                try skipValue(depth: 1)
            }
        }
        return AssertionOutcome(name: try required(name, "name"), ok: try required(ok, "ok"), actual: actual)
    }

    /// nil for a phase this version does not know (a newer agent's): kept only in the stored JSON.
    mutating func budgetOutcome() throws -> BudgetOutcome? {
        var limit: Double?, phase: String?, ok: Bool?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "limit_ms" {
                limit = try field("limit_ms") { r in try r.double() }
            } else if key == "phase" {
                phase = try field("phase") { r in try r.string() }
            } else if key == "ok" {
                ok = try field("ok") { r in try r.bool() }
            } else {
                try skipValue(depth: 1)
            }
        }
        let limitMilliseconds = try required(limit, "limit_ms")
        let name = try required(phase, "phase")
        let passed = try required(ok, "ok")
        return PhaseTimings.Phase(rawValue: name).map {
            BudgetOutcome(limitMilliseconds: limitMilliseconds, phase: $0, ok: passed)
        }
    }
}
