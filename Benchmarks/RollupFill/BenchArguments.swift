import Foundation
import SondaConfig

/// A fleet benchmark's command line: `[SQLITE-PATH] [--postgres URL] [--pg-copies N]`. With a URL
/// the same generated rows also go to that PostgreSQL database and each figure is timed on both,
/// alternately, so the two are measured under the same load of the machine.
public struct BenchArguments {
    public var sqlitePath: String?
    public var postgres: PostgresURL?
    /// Each latency row written this many times to PostgreSQL, as N batches appending to one key
    /// would leave it (PostgreSQL's ingest appends; SQLite's merges into one row).
    public var postgresCopies = 1

    public init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--postgres":
                guard let url = rest.popFirst() else { throw BenchArgumentError("--postgres needs a URL") }
                postgres = try PostgresURL(url)
            case "--pg-copies":
                guard let n = rest.popFirst().flatMap(Int.init), n > 0 else {
                    throw BenchArgumentError("--pg-copies needs a positive count")
                }
                postgresCopies = n
            default:
                guard sqlitePath == nil, !argument.hasPrefix("-") else {
                    throw BenchArgumentError("unexpected \(argument)")
                }
                sqlitePath = argument
            }
        }
    }
}

public struct BenchArgumentError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Milliseconds since `start`.
public func millisecondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = (ContinuousClock.now - start).components
    return Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
}
