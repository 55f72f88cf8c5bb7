import ArgumentParser
import Foundation
import SondaAgent
import SondaCLI
import SondaConfig
import SondaCore
import SondaProbe

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe a URL now and print the phase waterfall (exit 0 ok, 1 failed, 2 over budget).",
        discussion: """
            URL is http://, https://, tls://host:port (TLS handshake only, no HTTP request) or
            tcp://host:port (a TCP service: --tls, --send and --expect say what to do on it).
            Every probe opens a fresh connection with a full TLS handshake.
            """
    )

    @Argument(help: "http://, https://, tls://host:port or tcp://host:port")
    var url: String?

    @Option(help: "Run this configured check (or flow) instead of a URL; needs --config.")
    var check: String?

    @Option(help: "Agent or checks file that defines --check.")
    var config: String?

    @Option(help: "How many probes to run in sequence.")
    var count: Int = 1

    @Option(help: "Network profiles to emulate, comma-separated (see `sonda-agent profiles`); runs are interleaved.")
    var profile: String?

    @Option(help: "Profiles file with user-defined profiles (YAML `profiles:` list) for --profile.")
    var profiles: String?

    @Option(help: "Write every run as an HAR 1.2 file (opens in Chrome DevTools).")
    var har: String?

    @Flag(help: "Print one JSON result per line instead of the waterfall.")
    var json = false

    @Option(name: .customLong("tls-min"), help: "Lowest acceptable TLS version: 1.2 or 1.3.")
    var tlsMin: String = "1.3"

    @Option(
        name: .customLong("ca-file"), help: "PEM trust store to verify servers against (default: the system bundle).")
    var caFile: String?

    @Option(help: "Give up on a probe after this long (e.g. 500ms, 10s).")
    var timeout: Duration = .seconds(10)

    @Option(help: "Latency budget for the total phase; over it (p95 with --count) exits 2.")
    var budget: Duration?

    @Option(name: .customLong("method"), help: "HTTP method.")
    var method: String = "GET"

    @Option(name: .customLong("header"), help: "Request header 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(name: .customLong("expect-status"), help: "Acceptable status codes, e.g. 200,204 or 200-299.")
    var expectStatus: String = "200-399"

    @Option(name: .customLong("spki-pin"), help: "Base64 SHA-256 of the server's public key (repeatable).")
    var pins: [String] = []

    @OptionGroup var tcp: TCPFlags

    @OptionGroup var connection: ConnectionFlags

    @OptionGroup var clientCertificate: ClientCertificateFlags

    func validate() throws {
        switch (url, check) {
        case (nil, nil): throw ValidationError("give a URL, or --check NAME --config FILE")
        case (.some, .some): throw ValidationError("give a URL or --check, not both")
        case (nil, .some) where config == nil: throw ValidationError("--check needs --config FILE")
        default: break
        }
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard TLSPolicy.versionName(tlsMin) != nil else {
            throw ValidationError("--tls-min must be 1.2 or 1.3, got '\(tlsMin)'")
        }
        _ = try connection.applied(to: ConnectionOptions())
    }

    func run() async throws {
        let probe = try makeProbe()
        let pool = ProbeWorkerPool(workers: 1)
        defer { pool.shutdown() }
        let output = ResultOutput(json: json)
        let results = await probe.run(on: pool) { output.emit($0) }
        output.finish(
            results, budget: probe.budget, profileBudgets: probe.profileBudgets,
            comparesProfiles: probe.profiles.count > 1)
        if let har { try HARFile(results, method: method).write(to: har) }
        throw ExitCode(probe.outcome(of: results).rawValue)
    }

    private func makeProbe() throws -> AdHocProbe {
        let flagBudget = budget.map { LatencyBudget(limit: $0) }
        let chosen = try ProfileChoice.parse(profile, file: profiles)
        guard let url else {
            var (spec, redactor, configured, forProfile) = try ConfiguredCheck.load(check ?? "", from: config ?? "")
            if let caFile {
                try requireReadable(caFile)
                spec.caFile = caFile
            }
            spec.connection = try connection.applied(to: spec.connection)
            if let client = try clientCertificate.clientCertificate() {
                spec.clientCertificate = client
                if let password = client.keyPassword { redactor.add(password) }
            }
            var probe = AdHocProbe(
                target: .check(spec, redactor), count: count, budget: flagBudget ?? configured, profiles: chosen)
            if flagBudget == nil {
                for case let profile? in chosen {
                    if let budget = forProfile(profile.name) { probe.profileBudgets[profile.name] = budget }
                }
            }
            return probe
        }
        var probe = AdHocProbe(request: try makeRequest(url), count: count, budget: flagBudget, profiles: chosen)
        if let password = clientCertificate.password { probe.redactor.add(password) }
        return probe
    }

    private func requireReadable(_ caFile: String) throws {
        guard FileManager.default.isReadableFile(atPath: caFile) else {
            throw CommandFailure(message: "cannot read CA file '\(caFile)'", code: .config)
        }
    }

    private func makeRequest(_ url: String) throws -> ProbeRequest {
        var target = try ProbeTarget(url)
        try tcp.apply(to: &target)
        if let caFile { try requireReadable(caFile) }
        let parsedHeaders = try headers.map { line in
            guard let header = HTTPHeader(parsing: line) else {
                throw CommandFailure(message: "--header must look like 'Name: value', got '\(line)'")
            }
            return header
        }
        return ProbeRequest(
            url: target.url, kind: target.kind, method: method, headers: parsedHeaders, timeout: timeout,
            caFile: caFile,
            tlsPolicy: TLSPolicy(minVersion: TLSPolicy.versionName(tlsMin) ?? "TLSv1.3", spkiSHA256Pins: pins),
            expectedStatus: try StatusRanges.parse(expectStatus),
            connection: try connection.applied(to: ConnectionOptions()),
            clientCertificate: try clientCertificate.clientCertificate())
    }
}

/// Writes results as they arrive (JSON lines) or a report at the end (terminal).
/// Used from the one probe worker thread, then from the command once the probes are done.
final class ResultOutput: @unchecked Sendable {
    let json: Bool
    var writer = ResultJSONWriter()
    let report = ProbeReport(style: .forStandardOutput)
    /// JSON lines go out at once on a terminal and in 64 KiB blocks into a pipe or file.
    let lineBuffered = isatty(STDOUT_FILENO) == 1
    var pending: [UInt8] = []

    init(json: Bool) { self.json = json }

    func emit(_ result: ProbeResult) {
        guard json else { return }
        pending += writer.line(result)
        if lineBuffered || pending.count >= 1 << 16 { flush() }
    }

    func finish(
        _ results: [ProbeResult], budget: LatencyBudget?, profileBudgets: [String: LatencyBudget] = [:],
        comparesProfiles: Bool = false
    ) {
        flush()
        guard !json else { return }
        let whole = results.filter { $0.step == nil }
        if comparesProfiles {
            print(report.comparison(whole, budget: budget, profileBudgets: profileBudgets))
        } else if whole.count == 1 {
            // A single run: a waterfall per flow step, then the whole.
            print(results.map(report.waterfall).joined(separator: "\n\n"))
        } else {
            print(report.summary(whole, budget: budget))
        }
    }

    private func flush() {
        var offset = 0
        while offset < pending.count {
            let written = pending[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            offset += written
        }
        pending.removeAll(keepingCapacity: true)
    }
}
