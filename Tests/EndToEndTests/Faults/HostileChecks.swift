import Foundation
import TestSupport

/// One check per mode of `faults/hostile-target.py`, and the error code its every result must carry
/// (docs/contract.md), within its timeout.
struct HostileCheck: Sendable, CustomStringConvertible {
    var mode: String
    var code: String
    var path = "/"
    /// YAML of the check's `expect`, if any.
    var expect: String?

    var name: String { "hostile-\(mode)" }
    var description: String { mode }

    static let all: [HostileCheck] = [
        HostileCheck(mode: "trickle", code: "timeout"),
        HostileCheck(mode: "endless-headers", code: "http_status"),
        HostileCheck(mode: "huge-body", code: "body_too_large"),
        HostileCheck(mode: "huge-chunked", code: "body_too_large"),
        HostileCheck(
            mode: "invalid-utf8", code: "assertion",
            expect: #"{json: {"$.status": "ok"}, headers: {X-Bad: {contains: "ok"}}}"#),
        HostileCheck(mode: "garbage", code: "http_status"),
        HostileCheck(mode: "redirects", code: "redirects", path: "/r/0"),
        HostileCheck(mode: "tls-alert", code: "tls_handshake"),
        HostileCheck(mode: "tls-reset", code: "http_status"),
    ]

    /// The check as one YAML flow mapping (a line of an agent's `checks:`).
    func yaml(target: HostileTarget, interval: String, timeout: String) throws -> String {
        let tls = mode.hasPrefix("tls-") ? ", tls: {ca_file: \(try TLSLab.shared().ca)}" : ""
        let expectation = expect.map { ", expect: \($0)" } ?? ""
        return "{name: \(name), class: reporting, interval: \(interval), timeout: \(timeout), "
            + "http: {url: \"\(target.url(mode, path: path))\"}\(tls)\(expectation)}"
    }
}
