import Foundation

/// Writes a `ProbeResult` as the same JSON that `ResultJSON.encoder()` produces (sorted keys,
/// unescaped slashes), several times faster: the agent writes one per probe, and a probe must cost
/// about what raw libcurl costs. A test holds the two byte-for-byte equal.
public struct ResultJSONWriter {
    private let out = Bytes()

    public init() {}

    /// The result as one line of JSON, newline included.
    public mutating func line(_ r: ProbeResult) -> [UInt8] {
        out.count = 0
        beginObject()
            key("agent"); string(r.agent)
            key("assertions")
            beginArray()
            for (index, a) in r.assertions.enumerated() {
                element(index)
                beginObject()
                    if let actual = a.actual { key("actual"); string(actual) }
                    key("name"); string(a.name)
                    key("ok"); bool(a.ok)
                endObject()
            }
            endArray()
            if let attempts = r.attempts {
                key("attempts")
                beginArray()
                for (index, a) in attempts.enumerated() {
                    element(index)
                    beginObject()
                        if let e = a.error { key("error"); error(e) }
                        key("started_at"); timestamp(a.startedAt)
                        key("total_ms"); number(a.totalMilliseconds)
                    endObject()
                }
                endArray()
            }
            key("budget")
            if let b = r.budget {
                beginObject()
                    key("limit_ms"); number(b.limitMilliseconds)
                    key("ok"); bool(b.ok)
                    key("phase"); string(b.phase.rawValue)
                endObject()
            } else { null() }
            key("check"); string(r.check)
            key("class"); string(r.endpointClass)
            key("error")
            if let e = r.error { error(e) } else { null() }
            key("http")
            if let h = r.http {
                beginObject()
                    key("body_bytes"); number(Double(h.bodyBytes))
                    if let sha = h.bodySHA256 { key("body_sha256"); string(sha) }
                    key("redirect_ms"); number(h.redirectMilliseconds)
                    key("redirects"); number(Double(h.redirects))
                    if let ip = h.remoteIP { key("remote_ip"); string(ip) }
                    key("status"); number(Double(h.status))
                    key("version"); string(h.version)
                endObject()
            } else { null() }
            key("id"); string(r.id)
            key("ok"); bool(r.ok)
            key("phases_ms")
            beginObject()
                let p = r.phases
                if let v = p.connect { key("connect"); number(v) }
                if let v = p.dns { key("dns"); number(v) }
                if let v = p.proxy { key("proxy"); number(v) }
                if let v = p.receive { key("receive"); number(v) }
                if let v = p.send { key("send"); number(v) }
                if let v = p.tls { key("tls"); number(v) }
                key("total"); number(p.total)
                if let v = p.wait { key("wait"); number(v) }
            endObject()
            key("profile"); string(r.profile)
            if let proxy = r.proxy {
                key("proxy")
                beginObject()
                    if let status = proxy.connectStatus { key("connect_status"); number(Double(status)) }
                    if let ip = proxy.ip { key("ip"); string(ip) }
                    key("url"); string(proxy.url)
                endObject()
            }
            key("region"); string(r.region)
            if let ip = r.remoteIP { key("remote_ip"); string(ip) }
            key("started_at"); timestamp(r.startedAt)
            key("step"); string(r.step)
            key("tls")
            if let t = r.tls { tls(t) } else { null() }
        endObject()
        out.append(0x0A)
        return out.array
    }

    private mutating func error(_ e: ProbeError) {
        beginObject()
            key("code"); string(e.code.rawValue)
            key("message"); string(e.message)
        endObject()
    }

    private mutating func tls(_ t: TLSReport) {
        beginObject()
            key("chain")
            beginArray()
            for (index, certificate) in t.chain.enumerated() {
                element(index)
                self.certificate(certificate)
            }
            endArray()
            if let c = t.cipher { key("cipher"); string(c) }
            if let client = t.clientCert { key("client_cert"); certificate(client.certificate, client: client) }
            if let d = t.daysToExpiry { key("days_to_expiry"); number(d) }
            if let e = t.earliestExpiry { key("earliest_expiry"); timestamp(e) }
            if let l = t.leaf { key("leaf"); certificate(l) }
            key("verified"); bool(t.verified)
            key("version"); string(t.version)
        endObject()
    }

    /// A certificate; a client certificate also has `days_to_expiry` and `sent`, in key order.
    private mutating func certificate(_ c: CertificateInfo, client: ClientCertificateReport? = nil) {
        beginObject()
            if let client { key("days_to_expiry"); number(client.daysToExpiry) }
            key("issuer"); string(c.issuer)
            key("not_after"); timestamp(c.notAfter)
            key("not_before"); timestamp(c.notBefore)
            key("sans")
            beginArray()
            for (index, san) in c.sans.enumerated() {
                element(index)
                string(san)
            }
            endArray()
            if let client { key("sent"); bool(client.sent) }
            key("sha256"); string(c.sha256)
            key("spki_sha256"); string(c.spkiSHA256)
            key("subject"); string(c.subject)
        endObject()
    }

    // MARK: JSON primitives

    private var needsComma = false

    private mutating func beginObject() {
        out.append(UInt8(ascii: "{"))
        needsComma = false
    }

    private mutating func endObject() {
        out.append(UInt8(ascii: "}"))
        needsComma = true
    }

    private mutating func beginArray() {
        out.append(UInt8(ascii: "["))
    }

    /// Before each array element: the separator, and no comma before the element's own first key.
    private mutating func element(_ index: Int) {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    private mutating func endArray() {
        out.append(UInt8(ascii: "]"))
        needsComma = true
    }

    private mutating func key(_ name: StaticString) {
        out.reserve(name.utf8CodeUnitCount + 4)
        if needsComma { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        out.append(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
        needsComma = false
    }

    private mutating func null() {
        literal("null")
    }

    private mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    private mutating func literal(_ text: StaticString) {
        out.append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        needsComma = true
    }

    private mutating func number(_ value: Double) {
        if value == value.rounded(), abs(value) < 1e15 {
            let integer = Int64(value)
            // -0 as JSONEncoder writes it (a certificate's days to expiry can round to it; found
            // by `make fuzz`).
            if value.sign == .minus { out.append(UInt8(ascii: "-")) }
            out.appendDecimal(integer.magnitude)
        } else if let thousandths = Self.exactThousandths(value) {
            // Phases are microseconds / 1000: printed from that integer, without the shortest
            // round-trip search of `description`, which prints the same digits for them.
            out.reserve(5)
            if thousandths < 0 { out.append(UInt8(ascii: "-")) }
            out.appendDecimal(thousandths.magnitude / 1000)
            var fraction = thousandths.magnitude % 1000
            var unit: UInt64 = 100
            out.append(UInt8(ascii: "."))
            while fraction != 0 {
                out.append(UInt8(ascii: "0") + UInt8(fraction / unit))
                fraction %= unit
                unit /= 10
            }
        } else {
            // As JSONEncoder: `description` without the ".0" of a whole number (1e15 and up).
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            text.withUTF8 { out.append($0) }
        }
        needsComma = true
    }

    /// `value` × 1000 when `value` has a fraction, is the double nearest to some integer / 1000
    /// and lies where no shorter decimal rounds to the same double (so "integer.fraction" without
    /// trailing zeros is exactly what `description` prints).
    static func exactThousandths(_ value: Double) -> Int64? {
        guard abs(value) >= 0.001, abs(value) < 1e12 else { return nil }
        let scaled = (value * 1000).rounded()
        guard scaled / 1000 == value, Int64(scaled) % 1000 != 0 else { return nil }
        return Int64(scaled)
    }

    /// RFC 3339 UTC with milliseconds, as `Timestamp.format` writes it, without building a String.
    private mutating func timestamp(_ date: Date) {
        out.append(UInt8(ascii: "\""))
        Timestamp.withText(date) { out.append($0) }
        out.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Copies runs of plain bytes whole and escapes the rest (per-byte appends were the writer's
    /// largest cost: results carry URLs, certificate subjects and error messages).
    private mutating func string(_ value: String?) {
        guard var value else { return null() }
        out.append(UInt8(ascii: "\""))
        value.withUTF8 { bytes in
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                escapeSpecial(byte)
                runStart = index + 1
            }
            out.append(UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A quote, a backslash or a control character, escaped.
    private mutating func escapeSpecial(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): escape(0x22)
        case UInt8(ascii: "\\"): escape(0x5C)
        case 0x0A: escape(UInt8(ascii: "n"))
        case 0x0D: escape(UInt8(ascii: "r"))
        case 0x09: escape(UInt8(ascii: "t"))
        case 0x08: escape(UInt8(ascii: "b"))
        case 0x0C: escape(UInt8(ascii: "f"))
        default:
            let hex: StaticString = "0123456789abcdef"
            out.reserve(6)
            out.append(0x5C)
            out.append(UInt8(ascii: "u"))
            out.append(0x30)
            out.append(0x30)
            out.append(hex.utf8Start[Int(byte >> 4)])
            out.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }

    private mutating func escape(_ byte: UInt8) {
        out.reserve(2)
        out.append(0x5C)
        out.append(byte)
    }

    /// The line being written: a buffer that grows by doubling, appended to without `Array`'s
    /// uniqueness and capacity checks on every byte, which were most of the writer's cost. Shared
    /// by copies of a writer, as each `line` starts it over and returns a copy.
    private final class Bytes {
        // An HTTPS result with its certificate chain is about 2.5 kB.
        private var base = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
        private var capacity = 4096
        var count = 0

        deinit { base.deallocate() }

        var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

        /// Room for `extra` more bytes.
        @inline(__always) func reserve(_ extra: Int) {
            if count + extra > capacity { grow(to: count + extra) }
        }

        private func grow(to needed: Int) {
            var newCapacity = capacity * 2
            while newCapacity < needed { newCapacity *= 2 }
            let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            // A memcpy: `update(from:count:)` copied byte by byte, 37 K instructions for 2 kB.
            UnsafeMutableRawPointer(newBase).copyMemory(from: base, byteCount: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }

        @inline(__always) func append(_ byte: UInt8) {
            reserve(1)
            base[count] = byte
            count += 1
        }

        func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress else { return }
            reserve(bytes.count)
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
            count += bytes.count
        }

        /// `value` in decimal digits.
        func appendDecimal(_ value: UInt64) {
            var digits = 1
            var rest = value / 10
            while rest != 0 {
                digits += 1
                rest /= 10
            }
            reserve(digits)
            var remaining = value
            for position in stride(from: count + digits - 1, through: count, by: -1) {
                base[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            }
            count += digits
        }
    }
}
