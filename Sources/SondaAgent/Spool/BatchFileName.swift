/// A batch file's name: `<sequence>-<token>.open` while results are appended to it, then
/// `<sequence>-<token>.jsonl` once sealed. The sequence orders batch files; the random token keeps the
/// name, which is also the batch id, unique when an emptied spool starts its sequence again.
struct BatchFileName: Hashable, Comparable, Sendable {
    var sequence: UInt64
    var token: UInt64

    static let openSuffix = ".open"
    static let sealedSuffix = ".jsonl"

    init(sequence: UInt64, token: UInt64) {
        self.sequence = sequence
        self.token = token
    }

    /// `00000000000000000042-00c0ffee00c0ffee`: fixed width, so names also sort by sequence.
    var stem: String {
        let sequenceDigits = String(sequence)
        let tokenDigits = String(token, radix: 16)
        return String(repeating: "0", count: 20 - sequenceDigits.count) + sequenceDigits + "-"
            + String(repeating: "0", count: 16 - tokenDigits.count) + tokenDigits
    }

    var openFile: String { stem + Self.openSuffix }
    var sealedFile: String { stem + Self.sealedSuffix }

    init?(stem: some StringProtocol) {
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 20, parts[1].count == 16,
            let sequence = UInt64(parts[0]), let token = UInt64(parts[1], radix: 16)
        else { return nil }
        self.init(sequence: sequence, token: token)
    }

    /// The batch file a directory entry names, and whether it is sealed; nil for any other file.
    static func parse(file: String) -> (name: BatchFileName, sealed: Bool)? {
        for (suffix, sealed) in [(sealedSuffix, true), (openSuffix, false)] where file.hasSuffix(suffix) {
            guard let name = BatchFileName(stem: file.dropLast(suffix.count)) else { return nil }
            return (name, sealed)
        }
        return nil
    }

    static func < (a: BatchFileName, b: BatchFileName) -> Bool {
        (a.sequence, a.token) < (b.sequence, b.token)
    }
}
