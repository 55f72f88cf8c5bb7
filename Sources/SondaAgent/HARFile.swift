import Foundation
import SondaCore

/// HAR 1.2 of a probe run (one entry per probe), for Chrome DevTools and other HAR viewers.
/// Phases map to HAR timings: dns, connect (which includes ssl, as HAR defines it, and a proxy's
/// tunnel, which HAR has no timing of its own for: it is also in `_proxy`), ssl, send, wait,
/// receive; `time` is their sum. Through a proxy, `serverIPAddress` is the proxy's, as browsers
/// record it. Results are already redacted; HAR gets no headers, cookies
/// or bodies, so nothing secret can leak through it.
public struct HARFile {
    public var results: [ProbeResult]
    public var method: String

    public init(_ results: [ProbeResult], method: String = "GET") {
        self.results = results
        self.method = method.uppercased()
    }

    public func json() throws -> Data {
        let document: [String: Any] = [
            "log": [
                "version": "1.2",
                "creator": ["name": "sonda-agent", "version": SondaVersion.current],
                "pages": [] as [Any],
                "entries": results.map(entry),
            ] as [String: Any]
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }

    public func write(to path: String) throws {
        try json().write(to: URL(fileURLWithPath: path))
    }

    private func entry(_ result: ProbeResult) -> [String: Any] {
        let p = result.phases
        let ssl = p.tls ?? -1
        let connect = p.connect.map { $0 + (p.proxy ?? 0) + (p.tls ?? 0) } ?? -1
        var timings: [String: Any] = [
            "blocked": -1, "dns": p.dns ?? -1, "connect": connect, "ssl": ssl, "send": p.send ?? 0,
            "wait": p.wait ?? 0, "receive": p.receive ?? 0,
        ]
        if let proxy = p.proxy { timings["_proxy"] = proxy }
        let httpVersion = result.http.map { $0.version == "2" ? "HTTP/2" : "HTTP/\($0.version)" } ?? ""
        var entry: [String: Any] = [
            "startedDateTime": Timestamp.format(result.startedAt),
            "time": p.total,
            "request": [
                "method": method, "url": result.url, "httpVersion": httpVersion, "cookies": [] as [Any],
                "headers": [] as [Any], "queryString": queryString(result.url), "headersSize": -1, "bodySize": -1,
            ] as [String: Any],
            "response": [
                "status": result.http?.status ?? 0, "statusText": "", "httpVersion": httpVersion,
                "cookies": [] as [Any], "headers": [] as [Any],
                "content": ["size": result.http?.bodyBytes ?? 0, "mimeType": ""] as [String: Any],
                "redirectURL": "", "headersSize": -1, "bodySize": result.http?.bodyBytes ?? -1,
            ] as [String: Any],
            "cache": [:] as [String: Any],
            "timings": timings,
        ]
        if let ip = result.http?.remoteIP ?? result.remoteIP ?? result.proxy?.ip { entry["serverIPAddress"] = ip }
        var comment = ["profile \(result.profile ?? "none")"]
        if let check = result.check { comment.append("check \(check)") }
        if let step = result.step { comment.append("step \(step)") }
        if let proxy = result.proxy { comment.append("proxy \(proxy.url)") }
        if let error = result.error { comment.append("\(error.code.rawValue): \(error.message)") }
        entry["comment"] = comment.joined(separator: "; ")
        return entry
    }

    private func queryString(_ url: String) -> [[String: String]] {
        guard let items = URLComponents(string: url)?.queryItems else { return [] }
        return items.map { ["name": $0.name, "value": $0.value ?? ""] }
    }
}
