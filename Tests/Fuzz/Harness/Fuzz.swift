import Foundation
import SondaAggregator
import SondaConfig
import SondaCore

/// Coverage-guided fuzzing of what reads untrusted bytes, with libFuzzer (`make fuzz`, built with
/// `-sanitize=fuzzer -DSONDA_FUZZ` in its own build folder). One binary, four targets, chosen by
/// SONDA_FUZZ_TARGET: `batch` (the batch reader), `signature` (the signature header), `config`
/// (the agent, checks and aggregator config loaders) and `result` (a result's JSON written back
/// by ResultJSONWriter). Besides not crashing, each input must keep the target's promise; a
/// broken promise stops the run as a crash, with the input saved by libFuzzer.
enum FuzzTarget: String {
    case batch, signature, config, result

    static let chosen: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["SONDA_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("SONDA_FUZZ_TARGET must be batch, signature, config or result, not '\(name)'")
        }
        return target
    }()

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .batch: Self.batch(bytes)
        case .signature: Self.signature(String(decoding: bytes, as: UTF8.self))
        case .config: Self.config(String(decoding: bytes, as: UTF8.self))
        case .result: Self.result(Data(bytes))
        }
    }

    static func broken(_ promise: String, _ input: @autoclosure () -> String) -> Never {
        fatalError("\(promise): \(input())")
    }

    /// Accepted by the reader means JSONDecoder reads the same batch, and each kept result text
    /// decodes to the result read (the reader may refuse more: IngestFuzzTests says which).
    static func batch(_ bytes: UnsafeRawBufferPointer) {
        guard let read = try? BatchReader.read(bytes, maxResults: 100) else { return }
        let body = Data(bytes)
        let decoder = ResultJSON.decoder()
        guard let decoded = try? decoder.decode(ResultBatch.self, from: body), decoded == read.batch else {
            broken("accepted a batch JSONDecoder reads otherwise", String(decoding: body, as: UTF8.self))
        }
        for (raw, result) in zip(read.rawResults, read.batch.results)
        where (try? decoder.decode(ProbeResult.self, from: Data(raw.utf8))) != result {
            broken("kept a result text that decodes otherwise", raw)
        }
    }

    /// Parsed means the header says exactly those fields (the last value of each key); refused
    /// means a 401.
    static func signature(_ text: String) {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            fields[part[..<eq].trimmingCharacters(in: .whitespaces)] = String(part[part.index(after: eq)...])
        }
        let valid =
            (fields["keyid"].map { !$0.isEmpty } ?? false) && fields["t"].flatMap { Int64($0) } != nil
            && fields["sig"].flatMap { Data(base64Encoded: $0) }?.count == 64
        do {
            let header = try SignatureHeader(parsing: text)
            guard valid, header.agent == fields["keyid"], header.timestamp == fields["t"].flatMap({ Int64($0) }),
                header.signature == fields["sig"].flatMap({ Data(base64Encoded: $0) })
            else { broken("parsed a header otherwise than it says", text) }
        } catch {
            guard !valid, error.status.code == 401 else { broken("refused a valid header", text) }
        }
    }

    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Every loader either loads the text or reports errors, each located in a file at a line and
    /// column that exist.
    static func config(_ text: String) {
        let path = folder.appendingPathComponent("fuzz.yaml").path
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            fatalError("cannot write \(path)")
        }
        // YAML's line breaks: LF, CRLF (one Character), CR, NEL, LS, PS.
        let lines = text.split(omittingEmptySubsequences: false) { "\n\r\u{85}\u{2028}\u{2029}\r\n".contains($0) }.count
        func check(_ loaded: Bool, _ diagnostics: [Diagnostic], _ loader: String) {
            let errors = diagnostics.filter { $0.severity == .error }
            guard loaded == errors.isEmpty else { broken("\(loader) loaded \(loaded) with \(errors)", text) }
            for d in diagnostics where d.file == path && (d.line < 1 || d.line > lines + 1 || d.column < 1) {
                broken("\(loader) located a diagnostic outside the file: \(d)", text)
            }
        }
        var agent = ConfigLoader(environment: [:])
        check(agent.loadAgent(path: path) != nil, agent.diagnostics, "agent")
        var checks = ConfigLoader(environment: [:])
        check(checks.loadChecks(path: path, text: text) != nil, checks.diagnostics, "checks")
        var aggregator = AggregatorConfigLoader(environment: [:])
        check(aggregator.load(path: path) != nil, aggregator.diagnostics, "aggregator")
    }

    /// A result that decodes is written as JSONEncoder writes it, byte for byte, and what is
    /// written reads back as itself (timestamps are kept to the millisecond, so the first write may
    /// round a finer one; after it, writing is a fixed point).
    static func result(_ data: Data) {
        let decoder = ResultJSON.decoder()
        guard let result = try? decoder.decode(ProbeResult.self, from: data) else { return }
        var writer = ResultJSONWriter()
        let line = writer.line(result)
        guard let encoded = try? ResultJSON.encoder().encode(result), Array(encoded) + [0x0A] == line else {
            broken("wrote otherwise than JSONEncoder", String(decoding: line, as: UTF8.self))
        }
        guard let again = try? decoder.decode(ProbeResult.self, from: Data(line)), writer.line(again) == line else {
            broken("wrote a result that reads back otherwise", String(decoding: line, as: UTF8.self))
        }
    }
}

#if SONDA_FUZZ
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        FuzzTarget.chosen.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func runDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's `main` to `<module>_main`, so libFuzzer's own `main` is not
    /// used: this one hands the command line to libFuzzer's driver.
    @_cdecl("sonda_fuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return runDriver(&argc, &argv) { data, count in fuzzOneInput(data, count) }
    }
#else
    @main struct NotFuzzing {
        static func main() {
            FileHandle.standardError.write(Data("sonda-fuzz runs under libFuzzer only: `make fuzz`\n".utf8))
            exit(64)
        }
    }
#endif
