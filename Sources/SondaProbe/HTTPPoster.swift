import CCurl
import Foundation

/// The agent's own requests (its result batches to the aggregator), on a worker's easy handle.
/// Not a probe: no phase timing, connections may be reused.
public struct HTTPPostResponse: Sendable {
    public var status: Int
    public var body: String
    /// libcurl's message when no HTTP response came back.
    public var transportError: String?
    /// The answer was longer than the request's `maxBodyBytes`: the transfer was stopped there,
    /// `body` is empty and `transportError` says so.
    public var tooLarge: Bool

    public init(status: Int, body: String, transportError: String?, tooLarge: Bool = false) {
        self.status = status
        self.body = body
        self.transportError = transportError
        self.tooLarge = tooLarge
    }

    /// How much of an answer is read unless a caller says otherwise: far more than any answer of
    /// Sonda's API, far less than would hurt the process reading it.
    public static let defaultMaxBodyBytes = 64 << 20
}

extension ProbeRunner {
    public func post(
        url: String, body: [UInt8], headers: [HTTPHeader], timeout: Duration, caFile: String?,
        maxBodyBytes: Int = HTTPPostResponse.defaultMaxBodyBytes
    ) -> HTTPPostResponse {
        let headers = headers + [HTTPHeader(name: "Content-Type", value: "application/json")]
        let sink = ResponseSink(limit: maxBodyBytes)
        let handle = easy.handle
        easy.reset()
        easy.collectErrorMessage()
        easy.set(CURLOPT_URL, url)
        easy.set(CURLOPT_NOSIGNAL, true)
        easy.set(CURLOPT_POST, true)
        easy.set(CURLOPT_TIMEOUT_MS, max(Int(timeout.milliseconds), 1))
        easy.set(CURLOPT_CAINFO, caFile ?? ProbeRequest.systemCAFile)
        easy.set(CURLOPT_CAPATH, nil)
        easy.set(CURLOPT_USERAGENT, HTTPProber.userAgent)
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        defer { curl_slist_free_all(list) }
        sonda_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        sonda_setopt_write_function(handle, sinkCallback)
        sonda_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        let code: CURLcode = body.withUnsafeBufferPointer { buffer in
            sonda_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            return withExtendedLifetime(sink) {
                easy.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(sink).toOpaque())
                return easy.perform()
            }
        }
        if sink.overflowed {
            return HTTPPostResponse(
                status: easy.long(CURLINFO_RESPONSE_CODE), body: "",
                transportError: "the answer is longer than \(Self.size(maxBodyBytes))", tooLarge: true)
        }
        let text = String(decoding: sink.bytes, as: UTF8.self)
        guard code == CURLE_OK else {
            // libcurl's own message names the problem ("SSL certificate problem: certificate has
            // expired"); the code's text alone ("SSL peer certificate or SSH remote key was not OK") does not.
            let message = easy.errorMessage
            return HTTPPostResponse(
                status: 0, body: text, transportError: message.isEmpty ? CurlEasy.describe(code) : message)
        }
        return HTTPPostResponse(status: easy.long(CURLINFO_RESPONSE_CODE), body: text, transportError: nil)
    }

    /// "64 MiB", "512 KiB", "1000 bytes".
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}

/// The answer's bytes as they arrive, up to `limit`: one more byte and the transfer stops.
private final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}

private let sinkCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    pointer, size, count, userData in
    guard let pointer, let userData else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userData).takeUnretainedValue()
    let total = size * count
    guard total <= sink.limit - sink.bytes.count else {
        sink.overflowed = true
        return 0  // anything but `total` makes libcurl stop the transfer with CURLE_WRITE_ERROR
    }
    pointer.withMemoryRebound(to: UInt8.self, capacity: total) {
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total))
    }
    return total
}
