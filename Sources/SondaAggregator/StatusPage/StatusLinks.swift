import Foundation

/// Links between the status pages. When the page was opened with `?token=` (a browser cannot send
/// a bearer header), the token is carried into these links, and only these, so the next click
/// still authenticates; a page reached with a header gets links without it.
struct StatusLinks: Sendable {
    var token: String?

    func fleet(window: String? = nil) -> String {
        "/" + query([("window", window), ("token", token)])
    }

    func check(_ name: String, window: String? = nil, profile: String? = nil) -> String {
        "/checks/" + Self.pathSegment(name) + query([("window", window), ("profile", profile), ("token", token)])
    }

    private func query(_ items: [(String, String?)]) -> String {
        let parts = items.compactMap { name, value in value.map { "\(name)=\(Self.queryValue($0))" } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#%")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A state as a tinted badge with an icon and a word, so it reads without colour too.
enum StateBadge {
    static func icon(_ state: BudgetState) -> String {
        switch state {
        case .ok: "✓"
        case .degraded: "▲"
        case .violated: "✕"
        case .noData: "–"
        case .noBudget: "○"
        }
    }

    static func label(_ state: BudgetState) -> String {
        switch state {
        case .noData: "no data"
        case .noBudget: "no budget"
        default: state.rawValue
        }
    }

    static func badge(_ state: BudgetState, _ text: String? = nil) -> HTML {
        "<span class=\"badge s-\(state.rawValue)\">\(icon(state)) \(text ?? label(state))</span>"
    }
}
