/// What a `tcp` check says on a connection and what the reply must hold, as raw bytes (escapes in
/// the config already decoded). Neither: the check only connects (and runs the TLS handshake).
///
/// The reply is read until it contains `expect`, or until it is complete without it: the server
/// closed the connection, or the reply holds one more line end than `expect` does (a line end is
/// `\n`, or MLLP's end of block `\x1c`), so a one-line `expect` is judged on the first line.
public struct TCPExchange: Sendable, Hashable {
    /// Written once the connection (and TLS) is up; nil sends nothing.
    public var send: [UInt8]?
    /// Must occur in the reply; nil reads nothing.
    public var expect: [UInt8]?

    /// The most a reply is read before it is judged not to match.
    public static let maxReplyBytes = 64 << 10

    public init(send: [UInt8]? = nil, expect: [UInt8]? = nil) {
        self.send = send
        self.expect = expect
    }

    /// Whether `reply`, as read so far, is complete without matching (see the type's comment).
    public func replyIsComplete(_ reply: [UInt8]) -> Bool {
        let allowed = (expect ?? []).reduce(0) { $0 + (Self.endsLine($1) ? 1 : 0) }
        var seen = 0
        for byte in reply where Self.endsLine(byte) {
            seen += 1
            if seen > allowed { return true }
        }
        return reply.count >= Self.maxReplyBytes
    }

    /// Whether `reply` contains `expect` (true when there is no `expect`).
    public func matches(_ reply: [UInt8]) -> Bool {
        guard let expect, !expect.isEmpty else { return true }
        guard reply.count >= expect.count else { return false }
        return (0...(reply.count - expect.count)).contains { start in
            reply[start..<(start + expect.count)].elementsEqual(expect)
        }
    }

    private static func endsLine(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x1C }
}

/// The escapes `send` and `expect` take: `\r`, `\n`, `\t`, `\\`, `\0` and `\xHH` (two hex
/// digits, e.g. MLLP's start of block `\x0b` and end of block `\x1c`). A backslash before anything
/// else stays as written, so HL7's encoding characters `^~\&` (and its own `\F\`, `\S\` escapes)
/// need no doubling. Text is sent as UTF-8.
public enum ByteEscapes {
    /// Why a text is not valid, and where (a character offset into it).
    public struct Problem: Error, Hashable, Sendable {
        public var offset: Int
        public var message: String
    }

    public static func decode(_ text: String) throws(Problem) -> [UInt8] {
        let scalars = Array(text.unicodeScalars)
        var bytes: [UInt8] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let next = index + 1 < scalars.count ? scalars[index + 1] : nil
            guard scalar == "\\", let next, let escaped = try escape(next, at: index, in: scalars) else {
                bytes.append(contentsOf: Array(String(scalar).utf8))
                index += 1
                continue
            }
            bytes.append(escaped)
            index += next == "x" ? 4 : 2
        }
        return bytes
    }

    /// The byte `\` + `letter` stands for; nil when it is no escape (the backslash stays).
    private static func escape(_ letter: Unicode.Scalar, at index: Int, in scalars: [Unicode.Scalar]) throws(Problem)
        -> UInt8?
    {
        switch letter {
        case "r": return 0x0D
        case "n": return 0x0A
        case "t": return 0x09
        case "0": return 0x00
        case "\\": return 0x5C
        case "x":
            let digits = String(String.UnicodeScalarView(scalars[(index + 2)..<min(index + 4, scalars.count)]))
            guard digits.count == 2, let value = UInt8(digits, radix: 16) else {
                throw Problem(offset: index, message: "'\\x' needs two hex digits, as in \\x0b")
            }
            return value
        default: return nil
        }
    }

    /// Bytes as text for messages: printable ASCII as is, everything else escaped as `decode`
    /// reads it, at most `limit` bytes (then `…`).
    public static func encode(_ bytes: some Collection<UInt8>, limit: Int = 200) -> String {
        var text = ""
        for byte in bytes.prefix(limit) {
            switch byte {
            case 0x0D: text += "\\r"
            case 0x0A: text += "\\n"
            case 0x09: text += "\\t"
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return bytes.count > limit ? text + "…" : text
    }
}

/// `host:port` or `[v6 address]:port`, as a `tcp` check's `address` and `tcp://` take it.
public struct TCPAddress: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why `text` is not an address, nil when it is one.
    public static func problem(_ text: String) -> String? {
        guard let colon = text.lastIndex(of: ":") else { return "needs a port: host:port" }
        var host = String(text[..<colon])
        let port = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return "an IPv6 address goes in brackets: [\(host)]:\(port)"
        }
        if host.isEmpty { return "has no host" }
        if host.contains(where: { $0 == "/" || $0 == " " || $0 == "@" }) { return "'\(host)' is not a host name" }
        guard let number = Int(port), (1...65535).contains(number) else {
            return port.isEmpty ? "needs a port: host:port" : "port '\(port)' is not 1-65535"
        }
        return nil
    }

    public init?(_ text: String) {
        guard Self.problem(text) == nil, let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: Int(text[text.index(after: colon)...]) ?? 0)
    }

    /// `host:port`, with an IPv6 address in brackets: as a URL's authority.
    public var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `tcp` check: connect (optionally with TLS), optionally send a line and read the reply.
public struct TCPTarget: Sendable, Hashable {
    public var address: TCPAddress
    /// Run a TLS handshake (under the check's `tls` policy) before the exchange.
    public var usesTLS: Bool
    public var exchange: TCPExchange

    public init(address: TCPAddress, usesTLS: Bool = false, exchange: TCPExchange = TCPExchange()) {
        self.address = address
        self.usesTLS = usesTLS
        self.exchange = exchange
    }
}
