import Foundation

/// Where a page of a list endpoint starts: the last entry of the page before, as the fields its
/// cursor carries.
protocol ListPosition {
    /// The endpoint's list, as in `/v1/<list>`.
    static var list: String { get }
    init?(fields: [String])
    var fields: [String] { get }
}

/// `?limit=N&cursor=C` on the list endpoints (`/v1/alerts`, `/v1/agents`, `/v1/silences`): at
/// most `limit` entries (`ListLimits`: 500 unless asked, at most 1000), and `next_cursor` in the body while more
/// remain. The cursor is opaque to clients: base64url of the list's name and the last entry's
/// position, checked when it comes back, so a cursor edited or taken from another list is a 400
/// rather than a wrong page.
struct ListPage<Position: ListPosition> {
    let limit: Int
    /// Where the page starts; nil for the first page.
    let after: Position?

    init(_ q: QueryParameters) throws {
        limit = try q.int("limit", default: ListLimits.default, in: 1...ListLimits.maximum)
        after = try q.string("cursor").map { text in
            guard let position = Self.decode(text) else {
                throw AggregatorError.badParameter(
                    "cursor",
                    "not a cursor of /v1/\(Position.list); pass the next_cursor of the previous page as it was")
            }
            return position
        }
    }

    /// How many entries to ask the store for: one more than shown tells whether more remain.
    var readLimit: Int { limit + 1 }

    /// The entries to show of those read with `readLimit`, and the cursor of the next page (the
    /// position of the last shown) when there were more.
    func split<Entry>(_ read: [Entry], position: (Entry) -> Position) -> (shown: [Entry], next: String?) {
        guard read.count > limit else { return (read, nil) }
        return (Array(read.prefix(limit)), Self.encode(position(read[limit - 1])))
    }

    static func encode(_ position: Position) -> String {
        let data = (try? JSONEncoder().encode([Position.list] + position.fields)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Position? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 4096, let data = Data(base64Encoded: base64),
            let decoded = try? JSONDecoder().decode([String].self, from: data), decoded.first == Position.list
        else { return nil }
        return Position(fields: Array(decoded.dropFirst()))
    }
}

extension AlertPosition: ListPosition {
    static var list: String { "alerts" }

    init?(fields: [String]) {
        guard fields.count == 4, let group = Group(rawValue: fields[0]), let key = Int64(fields[1]),
            let activeSince = Int64(fields[2])
        else { return nil }
        self.init(group: group, key: key, activeSinceMilliseconds: activeSince, fingerprint: fields[3])
    }

    var fields: [String] { [group.rawValue, String(key), String(activeSinceMilliseconds), fingerprint] }
}

extension SilencePosition: ListPosition {
    static var list: String { "silences" }

    init?(fields: [String]) {
        guard fields.count == 2, let endsAt = Int64(fields[0]) else { return nil }
        self.init(endsAtMilliseconds: endsAt, id: fields[1])
    }

    var fields: [String] { [String(endsAtMilliseconds), id] }
}

/// An agent's place in `GET /v1/agents`, which lists the configured agents by id.
struct AgentPosition: ListPosition {
    static var list: String { "agents" }
    var id: String

    init(id: String) { self.id = id }

    init?(fields: [String]) {
        guard fields.count == 1 else { return nil }
        id = fields[0]
    }

    var fields: [String] { [id] }
}
