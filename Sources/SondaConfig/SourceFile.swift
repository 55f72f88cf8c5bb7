/// A file a configuration was read from, as it was read: the agent file and every file it brought
/// in (included checks, profile definitions, budgets), for a digest of the whole configuration.
public struct SourceFile: Sendable, Hashable {
    public var path: String
    public var bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}
