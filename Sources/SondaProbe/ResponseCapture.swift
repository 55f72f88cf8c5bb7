import Foundation
import SondaCore

/// The parts of a response a flow step looks at: the headers it names and, when it needs it, the
/// body. Filled by libcurl's callbacks on the probe's worker thread; only the final response of a
/// redirect chain is kept. The body stays in memory for the step's judgement and is never stored.
final class ResponseCapture {
    /// Lowercased names of the headers to keep.
    let headerNames: Set<String>
    let keepsBody: Bool
    /// Values of the kept headers by lowercased name, in the order the server sent them.
    private(set) var headers: [String: [String]] = [:]
    private(set) var body: [UInt8] = []
    private var parsedJSON: Result<JSONValue, JSONValue.ParseError>?
    private var decodedBody: String?

    init(headerNames: Set<String>, keepsBody: Bool) {
        self.headerNames = Set(headerNames.map { $0.lowercased() })
        self.keepsBody = keepsBody
    }

    /// One header line as libcurl delivers it: a status line starts a new response (a redirect hop,
    /// or the final answer after `100 Continue`), so what an earlier one sent is dropped.
    func receiveHeader(_ line: UnsafeBufferPointer<UInt8>) {
        if line.starts(with: "HTTP/".utf8) {
            headers.removeAll(keepingCapacity: true)
            body.removeAll(keepingCapacity: true)
            return
        }
        guard !headerNames.isEmpty, let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        guard headerNames.contains(name) else { return }
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name, default: []].append(value)
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        if keepsBody { body.append(contentsOf: bytes) }
    }

    /// All values of a header joined as HTTP folds them, or nil when the response did not have it.
    func header(_ name: String) -> String? {
        headers[name.lowercased()]?.joined(separator: ", ")
    }

    var bodyText: String {
        if let decodedBody { return decodedBody }
        let text = String(decoding: body, as: UTF8.self)
        decodedBody = text
        return text
    }

    /// The body parsed as JSON, once per response.
    var json: Result<JSONValue, JSONValue.ParseError> {
        if let parsedJSON { return parsedJSON }
        let parsed = Result { () throws(JSONValue.ParseError) in try JSONValue.parse(body) }
        parsedJSON = parsed
        return parsed
    }
}

let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userData in
    guard let pointer, let userData else { return 0 }
    let length = size * count
    let transfer = Unmanaged<Transfer>.fromOpaque(userData).takeUnretainedValue()
    pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.capture?.receiveHeader(UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}
