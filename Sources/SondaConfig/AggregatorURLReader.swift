import Foundation
import Yams

/// The agent file's `aggregator:` URLs: `url` for one aggregator, or `urls` for several that the
/// reporter fails over between (so a fleet needs no load balancer in front of its aggregators).
/// Both keys at once, an empty list, a URL that is not http(s) and a URL listed twice are errors.
enum AggregatorURLReader {
    static func urls(in section: MappingReader, interpolation: inout Interpolation, file: ConfigFile) -> [String] {
        switch (section.has("url"), section.has("urls")) {
        case (true, true):
            file.error(
                "'aggregator' takes 'url' (one aggregator) or 'urls' (several, tried in turn), not both",
                at: section.keyNode("urls"))
            return []
        case (false, false):
            file.error("'aggregator' is missing required key 'url' (or 'urls', a list)", at: section.node)
            return []
        case (true, false):
            guard let (raw, node) = section.scalar("url") else { return [] }
            return checked([(raw, node)], interpolation: &interpolation, file: file)
        case (false, true):
            if let value = section.value("urls"), isEmptyList(value) {
                file.error("'urls' must list at least one aggregator URL", at: value)
                return []
            }
            guard let listed = section.strings("urls") else { return [] }
            return checked(listed, interpolation: &interpolation, file: file)
        }
    }

    /// `urls: []`, or `urls:` with nothing after it.
    private static func isEmptyList(_ value: Node) -> Bool {
        switch value {
        case .sequence(let sequence): return sequence.isEmpty
        case .scalar(let scalar): return scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"
        default: return false
        }
    }

    /// What every accepted URL is. Plain http:// is accepted to any host (a TLS proxy beside the
    /// agent, a test on loopback): the batches are signed either way, only not encrypted.
    static let notAURL = "aggregator url must be an https:// or http:// URL with a host"

    private static func checked(
        _ entries: [(String, Node)], interpolation: inout Interpolation, file: ConfigFile
    ) -> [String] {
        var urls: [String] = []
        for (raw, node) in entries {
            let url = interpolation.resolve(raw, at: node, in: file, secret: false)
            let scheme = url.prefix(8).lowercased()
            guard scheme.hasPrefix("https://") || scheme.hasPrefix("http://"), URL(string: url)?.host?.isEmpty == false
            else {
                file.error(Self.notAURL + ", got '\(raw)'", at: node)
                continue
            }
            let bare = url.hasSuffix("/") ? String(url.dropLast()) : url
            guard !urls.contains(where: { $0 == bare || $0 == bare + "/" || $0 + "/" == bare }) else {
                file.error("aggregator url '\(raw)' is listed twice", at: node)
                continue
            }
            urls.append(url)
        }
        return urls
    }
}
