/// `?limit=` of the list endpoints: how many entries a page holds unless asked, and at most.
public enum ListLimits {
    public static let `default` = 500
    public static let maximum = 1000
}

/// An answer of a paged list endpoint as a client reads it: a page, the cursor of the next one
/// (absent on the last), and how to add the following page to what was read so far.
public protocol PagedList: Codable, Sendable {
    var nextCursor: String? { get set }
    /// Appends the entries of `page`, the page after this one; other fields keep this one's values.
    mutating func append(_ page: Self)
}

extension AgentStatus.List: PagedList {
    public mutating func append(_ page: Self) { agents += page.agents }
}

extension AlertList: PagedList {
    public mutating func append(_ page: Self) { alerts += page.alerts }
}

extension SilenceList: PagedList {
    public mutating func append(_ page: Self) { silences += page.silences }
}
