import Foundation
import TestSupport

/// An aggregator's directory for the audit checkpoint tests: an agent key, the aggregator's own
/// key (`sonda-aggregator keygen`), a config with an `audit:` section, and the built binaries to
/// run against it, with the tampering a database writer could do.
struct AuditTrail {
    let directory: String
    /// The aggregator's public key, as keygen printed it.
    let publicKey: String
    let agentPublicKey: String
    static let binary = AggregatorEndToEndTests.aggregatorBinary

    init() async throws {
        directory = NSTemporaryDirectory() + "sonda-trail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keygen = try await ChildProcess.run(Self.binary, ["keygen", "--out", "\(directory)/audit.key"])
        guard keygen.status == 0 else { throw ChildProcess.SpawnFailed(description: "keygen: \(keygen.stderr)") }
        publicKey = keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try (publicKey + "\n").write(toFile: "\(directory)/audit.pub", atomically: true, encoding: .utf8)
        let agent = try await AgentCLI.run("keygen", "--out", "\(directory)/agent.key", "--id", "bench")
        agentPublicKey = String(agent.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") } ?? "")
    }

    /// Writes `name` (aggregator.yaml) for `database`, checkpointing to `checkpoints` every `every`.
    func config(
        _ name: String = "aggregator.yaml", database: String, checkpoints: String, every: String = "1h"
    ) throws -> String {
        try """
        listen: 127.0.0.1:0
        database: "\(database)"
        agents: [{id: bench, region: sao_paulo, public_key: "\(agentPublicKey)"}]
        audit:
          signing_key: audit.key
          checkpoints: \(checkpoints)
          checkpoint_every: \(every)
        """.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        return "\(directory)/\(name)"
    }

    func serve(_ config: String, portFile: String = "port") async throws -> (BackgroundProcess, Int) {
        let serve = try BackgroundProcess(
            Self.binary, ["serve", "--config", config, "--port-file", "\(directory)/\(portFile)"])
        return (serve, try await serve.port(writtenTo: "\(directory)/\(portFile)"))
    }

    /// Sends `batches` signed batches of 5 results as the agent `bench`.
    func send(batches: Int, to port: Int) async throws -> ChildProcess.Output {
        try await ChildProcess.run(
            "/usr/bin/env",
            [
                "python3", TLSLab.packageRoot.appendingPathComponent("bench/ingest-load.py").path, "--port", "\(port)",
                "--key", "\(directory)/agent.key", "--senders", "1", "--batch", "5", "--batches", "\(batches)",
                "--lazy",
            ])
    }

    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)) ?? "").split(separator: "\n")
            .map(String.init)
    }

    func verify(_ arguments: String...) async throws -> ChildProcess.Output {
        try await verify(arguments)
    }

    func verify(_ arguments: [String]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(Self.binary, ["audit", "verify"] + arguments)
    }

    /// Changes the second entry's detail and recomputes every hash after it, as someone who can
    /// write the database could: the chain alone still verifies.
    static let recomputeSQLite = """
        import hashlib, sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        db.execute("UPDATE audit SET detail = detail || ' forged' WHERE seq = (SELECT seq FROM audit ORDER BY seq LIMIT 1 OFFSET 1)")
        prev = "0" * 64
        for seq, at, kind, detail in db.execute("SELECT seq, at_ms, kind, detail FROM audit ORDER BY seq").fetchall():
            h = hashlib.sha256(f"{prev}\\n{at}\\n{kind}\\n{detail}".encode()).hexdigest()
            db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
            prev = h
        db.commit()
        """

    /// The same in PostgreSQL's own language.
    static let recomputePostgres = """
        UPDATE audit SET detail = detail || ' forged' WHERE seq = (SELECT seq FROM audit ORDER BY seq LIMIT 1 OFFSET 1);
        DO $$
        DECLARE r record; prev text := repeat('0', 64); h text;
        BEGIN
          FOR r IN SELECT seq, at_ms, kind, detail FROM audit ORDER BY seq LOOP
            h := encode(sha256(convert_to(prev || E'\\n' || r.at_ms || E'\\n' || r.kind || E'\\n' || r.detail, 'UTF8')), 'hex');
            UPDATE audit SET prev_hash = prev, hash = h WHERE seq = r.seq;
            prev := h;
          END LOOP;
        END $$;
        """

    /// Deletes the chain's last two entries.
    static let cutTail = "DELETE FROM audit WHERE seq IN (SELECT seq FROM audit ORDER BY seq DESC LIMIT 2)"

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

extension AuditTrail {
    /// Runs `serve --config config` in a mount namespace of its own whose `/dev/log` is a socket
    /// this test reads (so the machine's own syslog, if any, is left alone), until its first
    /// checkpoint arrives; then stops it with SIGTERM and reads until its last. Returns what syslog received, one datagram
    /// a line, and the shell's output.
    func serveLoggingToSyslog(_ config: String) async throws -> (received: String, output: ChildProcess.Output) {
        let script = """
            set -e
            d=\(directory)
            mkdir -p "$d/olddev"
            mount --rbind /dev "$d/olddev"
            mount -t tmpfs tmpfs /dev
            for n in null zero urandom random; do touch /dev/$n; mount --bind "$d/olddev/$n" /dev/$n; done
            python3 -c '
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind("/dev/log")
            out = open(sys.argv[1], "ab", buffering=0)
            while True: out.write(s.recv(65536) + b"\\n")
            ' "$d/syslog.txt" &
            listener=$!
            n=0; until [ -S /dev/log ]; do n=$((n+1)); [ $n -lt 2400 ] || exit 70; sleep 0.05; done
            \(Self.binary) serve --config \(config) --port-file "$d/syslog.port" &
            serve=$!
            n=0; until grep -q '"reason":"start"' "$d/syslog.txt" 2>/dev/null; do n=$((n+1)); [ $n -lt 2400 ] || exit 71; sleep 0.05; done
            kill -TERM $serve
            wait $serve
            n=0; until grep -q '"reason":"shutdown"' "$d/syslog.txt"; do n=$((n+1)); [ $n -lt 2400 ] || break; sleep 0.05; done
            kill $listener
            """
        let output = try await ChildProcess.run(
            "/usr/bin/unshare", ["--mount", "--propagation", "private", "sh", "-c", script])
        let received = (try? String(contentsOfFile: "\(directory)/syslog.txt", encoding: .utf8)) ?? ""
        return (received, output)
    }
}
