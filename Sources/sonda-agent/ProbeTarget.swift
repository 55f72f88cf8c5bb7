import Foundation
import SondaCLI
import SondaCore
import SondaProbe

/// A URL from the command line, checked before any probe runs.
struct ProbeTarget {
    var url: String
    var kind: ProbeRequest.Kind

    init(_ text: String) throws {
        if text.lowercased().hasPrefix("tcp://") {
            self = try Self.tcp(String(text.dropFirst("tcp://".count)))
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw CommandFailure(
                message: "'\(text)' is not a URL; expected http://, https://, tls://host:port or tcp://host:port")
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
            throw CommandFailure(
                message: "unsupported scheme '\(scheme)' in '\(text)'; expected http, https, tls or tcp")
        }
    }
}

extension ProbeTarget {
    /// `tcp://host:port`: libcurl's http:// for the address (https:// once `--tls` asks for TLS).
    private static func tcp(_ authority: String) throws -> ProbeTarget {
        let address = authority.hasSuffix("/") ? String(authority.dropLast()) : authority
        guard let parsed = TCPAddress(address) else {
            throw CommandFailure(message: "'tcp://\(authority)' \(TCPAddress.problem(address) ?? "is not host:port")")
        }
        return ProbeTarget(url: "http://\(parsed.authority)/", kind: .tcp(TCPExchange()))
    }

    private init(url: String, kind: ProbeRequest.Kind) {
        self.url = url
        self.kind = kind
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
            else {
                throw CommandFailure(message: "--expect-status: '\(part)' is not a status code or range like 200-299")
            }
            return low...high
        }
    }
}
