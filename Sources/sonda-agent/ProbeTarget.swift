import SondaCLI
import Foundation
import SondaProbe

/// A URL from the command line, checked before any probe runs.
struct ProbeTarget {
    var url: String
    var kind: ProbeRequest.Kind

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw CommandFailure(message: "'\(text)' is not a URL; expected http://, https:// or tls://host:port")
        }
        guard let host = components.host, !host.isEmpty else {
            throw CommandFailure(message: "'\(text)' has no host")
        }
        switch scheme {
        case "http", "https":
            url = text
            kind = .http
        case "tls":
            guard let port = components.port else {
                throw CommandFailure(message: "'\(text)' needs a port: tls://host:port")
            }
            let bracketed = host.contains(":") ? "[\(host)]" : host
            url = "https://\(bracketed):\(port)/"
            kind = .tlsHandshake
        default:
            throw CommandFailure(message: "unsupported scheme '\(scheme)' in '\(text)'; expected http, https or tls")
        }
    }
}

/// "200,204" or "200-299,304" → ranges of acceptable status codes.
enum StatusRanges {
    static func parse(_ text: String) throws -> [ClosedRange<Int>] {
        try text.split(separator: ",").map { part in
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard (1...2).contains(bounds.count), let low = bounds[0], let high = bounds.last!, low <= high,
                (100...599).contains(low), (100...599).contains(high)
            else { throw CommandFailure(message: "--expect-status: '\(part)' is not a status code or range like 200-299") }
            return low...high
        }
    }
}
