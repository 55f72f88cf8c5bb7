import SondaCore
import Testing

/// The escapes of a tcp check's `send` and `expect`, its address, and when a reply is judged.
@Suite struct TCPExchangeTests {
    static let decoded: [(String, [UInt8])] = [
        (#"QUIT\r\n"#, [81, 85, 73, 84, 13, 10]),
        (#"\x0bMSH\x1c\r"#, [0x0B, 77, 83, 72, 0x1C, 0x0D]),
        (#"a\tb\0c\\d"#, [97, 9, 98, 0, 99, 92, 100]),
        (#"\xFF\x00"#, [0xFF, 0x00]),
        ("é", [0xC3, 0xA9]),
        ("", []),
        // HL7's encoding characters and escapes keep their backslash; so does a last one.
        (#"MSH|^~\&|\F\"#, [77, 83, 72, 124, 94, 126, 92, 38, 124, 92, 70, 92]),
        (#"a\"#, [97, 92]),
    ]

    @Test(arguments: decoded)
    func escapesDecode(_ text: String, _ bytes: [UInt8]) throws {
        #expect(try ByteEscapes.decode(text) == bytes)
        #expect(try ByteEscapes.decode(ByteEscapes.encode(bytes)) == bytes, "encode is decode's inverse")
    }

    @Test(arguments: [(#"\x1"#, 0), (#"ab\xg0"#, 2), (#"\\\x"#, 2)])
    func badEscapesSayWhere(_ text: String, _ offset: Int) {
        #expect(throws: ByteEscapes.Problem.self) { try ByteEscapes.decode(text) }
        do {
            _ = try ByteEscapes.decode(text)
        } catch {
            #expect(error.offset == offset)
            #expect(error.message.contains("two hex digits"), "\(error.message)")
        }
    }

    @Test func encodeShortensLongReplies() {
        let text = ByteEscapes.encode([UInt8](repeating: 0x41, count: 300), limit: 10)
        #expect(text == "AAAAAAAAAA…")
    }

    static let addresses: [(String, String?, Int?, String?)] = [
        ("hl7.clinic.lan:2575", "hl7.clinic.lan", 2575, nil), ("[::1]:25", "::1", 25, nil),
        ("127.0.0.1:1", "127.0.0.1", 1, nil), ("a.lan", nil, nil, "needs a port"), ("a.lan:0", nil, nil, "not 1-65535"),
        ("a.lan:", nil, nil, "needs a port"), ("::1:25", nil, nil, "brackets"), ("a b:1", nil, nil, "not a host name"),
    ]

    @Test(arguments: addresses)
    func addressesParse(_ text: String, _ host: String?, _ port: Int?, _ problem: String?) {
        let address = TCPAddress(text)
        #expect(address?.host == host && address?.port == port)
        #expect(TCPAddress.problem(text)?.contains(problem ?? "\u{0}") ?? (problem == nil))
        if let address { #expect(TCPAddress(address.authority) == address, "authority round-trips") }
    }

    /// A one-line `expect` is judged at the first line end (or MLLP's end of block); a two-line
    /// one reads two lines.
    @Test func aReplyIsCompleteOneLineEndAfterWhatExpectSpans() {
        let banner = TCPExchange(expect: Array("220".utf8))
        #expect(!banner.replyIsComplete(Array("500 no".utf8)))
        #expect(banner.replyIsComplete(Array("500 no\r\n".utf8)))
        #expect(banner.replyIsComplete([0x0B] + Array("MSA|AE".utf8) + [0x1C]))
        #expect(!banner.matches(Array("500 no\r\n".utf8)) && banner.matches(Array("x220".utf8)))
        let twoLines = TCPExchange(expect: Array("ready\r\n221".utf8))
        #expect(!twoLines.replyIsComplete(Array("220 ready\r\n".utf8)))
        #expect(twoLines.replyIsComplete(Array("220 ready\r\n500 no\r\n".utf8)))
        #expect(banner.replyIsComplete([UInt8](repeating: 0x41, count: TCPExchange.maxReplyBytes)))
    }
}
