import Foundation

/// aggregator.yaml's `audit:` section: the aggregator signs a checkpoint of its audit chain's head
/// with its own key every `checkpointEvery` and at shutdown, and appends it outside the database.
public struct AuditConfig: Sendable, Hashable {
    /// Where checkpoints go, one JSON line each.
    public enum Destination: Sendable, Hashable, CustomStringConvertible {
        /// A file opened for appending (created 0640 when missing), fsynced after each line.
        case file(String)
        case stdout
        /// The local syslog (`/dev/log`), facility `auth`, as `sonda-aggregator`.
        case syslog

        public var description: String {
            switch self {
            case .file(let path): path
            case .stdout: "stdout"
            case .syslog: "syslog"
            }
        }
    }

    /// The Ed25519 key file `sonda-aggregator keygen` wrote.
    public var signingKey: String
    public var checkpointEvery: Duration
    public var destination: Destination

    public static let defaultEvery: Duration = .seconds(300)

    public init(signingKey: String, checkpointEvery: Duration = Self.defaultEvery, destination: Destination) {
        self.signingKey = signingKey
        self.checkpointEvery = checkpointEvery
        self.destination = destination
    }
}
