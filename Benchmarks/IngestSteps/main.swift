import Crypto
import Foundation
import PostgresNIO
import SondaAggregator
import SondaConfig
import SondaCore

/// What a PostgreSQL replica does to one batch before it reaches the database, step by step, on
/// one core: each step's time per batch, and its ratio to the signature check (a fixed cost every
/// batch pays: SHA-512 of the body and one Ed25519 verification), so that runs on a host whose speed
/// drifts compare. The batch is bench/ingest-load.py's: 500 results of 20 checks × 3 profiles ×
/// 4 classes, one in fifty failed, written and signed as an agent does.
/// Usage: ingest-steps [ROUNDS (400)]. Prints `ingest_step_<name>  µs  signature-µs  ratio`.
let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 400 : 400
let key = Curve25519.Signing.PrivateKey()
let agent = AggregatorConfig.Agent(id: "bench-0", region: "sao_paulo", publicKey: key.publicKey.rawRepresentation)
let classes = ["authentication", "patient_data", "appointment_booking", "reporting"]
let profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]
let now = Date()
let results = (0..<500).map { n in
    let total = Double(20 + (n * 7919 % 300))
    return ProbeResult(
        check: "check-\(n % 20)", agent: agent.id, region: agent.region, profile: profiles[n % 3],
        endpointClass: classes[n % 4], startedAt: now.addingTimeInterval(-Double(n) / 10),
        error: n % 50 == 0 ? ProbeError(.timeout, "timed out") : nil,
        phases: PhaseTimings(
            dns: 0.5, connect: 1.1, tls: 4.2, send: 0.1, wait: total - 6.4, receive: 0.5, total: total),
        http: HTTPInfo(
            status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 512,
            remoteIP: "10.0.0.1"),
        assertions: [AssertionOutcome(name: "status", ok: true)])
}
let batch = ResultBatch(
    agent: agent.id, batchID: UUID().uuidString.lowercased(), sentAt: now, results: results,
    heartbeat: Heartbeat(version: "bench", configHash: "x", spoolDepth: 0, dropped: 0))
let body = try ResultJSON.encoder().encode(batch)
let timestamp = Int64(now.timeIntervalSince1970)
let signature = try key.signature(for: Data("\(timestamp).".utf8) + body)
let header = try SignatureHeader(parsing: "keyid=\(agent.id),t=\(timestamp),sig=\(signature.base64EncodedString())")

var spent: [String: Duration] = [:]
let clock = ContinuousClock()
@MainActor func step<T>(_ name: String, _ work: () throws -> T) rethrows -> T {
    let start = clock.now
    let value = try work()
    spent[name, default: .zero] += clock.now - start
    return value
}
for round in 0..<(rounds + rounds / 8) {
    if round == rounds / 8 { spent = [:] }  // the first eighth warms caches and the allocator
    try step("signature") { try header.verify(body: body, agent: agent, now: now, window: .seconds(300)) }
    let read = try step("read") { try BatchReader.read(body, maxResults: 10_000) }
    let detail = step("audit_digest") { AuditLog.digest(body) }
    let rows = step("columns") {
        ResultColumns(read.batch.results, agent: agent.id, agentRegion: agent.region, rawResults: read.rawResults)
    }
    let rollup = step("rollup") { MinuteRollup(read.batch.results, agentRegion: agent.region) }
    let memory = PostgresStore.BatchMemory(agent: agent.id, batchID: batch.batchID, until: now)
    _ = step("statement") {
        PostgresStore.writeAtOnce(
            rows, remembering: memory, rollup: rollup, batch: read.batch, region: agent.region, seen: 0,
            auditDetail: detail)
    }
}
func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}
let signatureTime = microseconds(spent["signature"]!) / Double(rounds)
print("# per batch of 500 results (\(body.count) bytes), \(rounds) rounds; ratio to the signature check")
for name in ["read", "audit_digest", "columns", "rollup", "statement"] {
    let time = microseconds(spent[name]!) / Double(rounds)
    print(String(format: "ingest_step_%@  %.0f  %.0f  %.2f", name, time, signatureTime, time / signatureTime))
}
