import Foundation
import Testing

@testable import SondaCore

@Suite struct ResultJSONTests {
    static let sample = ProbeResult(
        id: "018f0000-0000-7000-8000-000000000000", check: "booking-slots", agent: "sp-clinic-01",
        region: "sao_paulo", profile: "mobile_3g_brazil", endpointClass: "appointment_booking",
        startedAt: Date(timeIntervalSince1970: 1_795_428_000.123),
        error: ProbeError(.tlsVersion, "server negotiated TLSv1.2; policy requires TLSv1.3"),
        phases: PhaseTimings(dns: 1.2, connect: 0.3, tls: 5.1, total: 6.6),
        http: HTTPInfo(
            status: 200, version: "1.1", redirects: 0, redirectMilliseconds: 0, bodyBytes: 123, remoteIP: "127.0.0.1"),
        assertions: [AssertionOutcome(name: "status", ok: true)],
        budget: BudgetOutcome(limitMilliseconds: 200, phase: .total, ok: true))

    @Test func encodesDesignShapeWithNullsForAbsentFields() throws {
        let data = try ResultJSON.encoder().encode(Self.sample)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "id", "check", "step", "agent", "region", "profile", "class", "started_at", "ok", "error", "phases_ms",
                "http", "tls", "assertions", "budget",
            ])
        #expect(object["step"] is NSNull)
        #expect(object["tls"] is NSNull)
        #expect(object["ok"] as? Bool == false)
        #expect(object["started_at"] as? String == "2026-11-23T10:00:00.123Z")
        let error = try #require(object["error"] as? [String: Any])
        #expect(error["code"] as? String == "tls_version")
        let http = try #require(object["http"] as? [String: Any])
        #expect(Set(http.keys) == ["status", "version", "redirects", "redirect_ms", "body_bytes", "remote_ip"])
        let budget = try #require(object["budget"] as? [String: Any])
        #expect(budget["limit_ms"] as? Double == 200)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""phases_ms":{"connect":0.3,"dns":1.2,"tls":5.1,"total":6.6}"#))
    }

    @Test func roundTrips() throws {
        let data = try ResultJSON.encoder().encode(Self.sample)
        var decoded = try ResultJSON.decoder().decode(ProbeResult.self, from: data)
        decoded.url = Self.sample.url
        #expect(decoded == Self.sample)
    }

    @Test func theCodesThisVersionMakesAreTheSetOfTheDesign() {
        #expect(
            ProbeError.Code.known.map(\.rawValue) == [
                "dns", "connect_refused", "connect_timeout", "proxy_unreachable", "proxy_auth", "proxy_refused",
                "tls_handshake", "tls_version", "tls_untrusted",
                "tls_hostname", "tls_expired", "tls_expiring", "tls_pin", "tls_client_cert", "http_status", "assertion",
                "timeout",
                "redirects", "body_too_large", "tcp_expect", "internal",
            ])
        #expect(ProbeError.Code.known.allSatisfy { $0.isKnown && ProbeError.Code(rawValue: $0.rawValue) == $0 })
    }

    /// A newer agent's code is read and kept as sent; a code that is not a code is refused.
    @Test(arguments: [
        ("quantum_tunnel", true), ("h3_stream_reset2", true), ("x", true), (String(repeating: "a", count: 64), true),
        (String(repeating: "a", count: 65), false), ("", false), ("Timeout", false), ("2fast", false),
        ("_x", false), ("tls-version", false), ("dns ", false), ("caf\u{E9}", false),
    ])
    func codesOfOtherVersionsAreReadWhenWellFormed(_ text: String, _ wellFormed: Bool) throws {
        let code = ProbeError.Code(rawValue: text)
        #expect((code != nil) == wellFormed)
        #expect(code?.isKnown != true)
        let json = Data(#"{"code":"\#(text)","message":"m"}"#.utf8)
        let decoded = try? ResultJSON.decoder().decode(ProbeError.self, from: json)
        #expect(decoded?.code.rawValue == (wellFormed ? text : nil))
        if let decoded { #expect(try ResultJSON.encoder().encode(decoded) == json) }
    }

    /// A budget of a phase this version does not know reads as none; the rest of the result as sent.
    @Test func aBudgetOfAnUnknownPhaseReadsAsNone() throws {
        var text = String(decoding: try ResultJSON.encoder().encode(Self.sample), as: UTF8.self)
        text = text.replacingOccurrences(of: #""phase":"total""#, with: #""phase":"quic""#)
        #expect(text.contains(#""budget":{"limit_ms":200,"ok":true,"phase":"quic"}"#))
        var decoded = try ResultJSON.decoder().decode(ProbeResult.self, from: Data(text.utf8))
        decoded.url = Self.sample.url
        var expected = Self.sample
        expected.budget = nil
        #expect(decoded == expected)
        let typeError = text.replacingOccurrences(of: #""phase":"quic""#, with: #""phase":7"#)
        #expect(throws: DecodingError.self) {
            try ResultJSON.decoder().decode(ProbeResult.self, from: Data(typeError.utf8))
        }
    }

    @Test func uuidV7IsTimeOrderedAndVersioned() {
        var generator = SystemRandomNumberGenerator()
        let a = UUIDv7.generate(milliseconds: 1_795_428_000_000, using: &generator)
        let b = UUIDv7.generate(milliseconds: 1_795_428_000_001, using: &generator)
        #expect(a < b)
        #expect(a.count == 36)
        let version = a[a.index(a.startIndex, offsetBy: 14)]
        #expect(version == "7")
        #expect("89ab".contains(a[a.index(a.startIndex, offsetBy: 19)]))
    }

    /// Every nibble lands in its place around the dashes: the time first, then version, random
    /// bits and variant.
    @Test func uuidV7LaysOutTimeVersionAndVariant() {
        struct Fixed: RandomNumberGenerator {
            var values: [UInt64] = [0xFFFF_FFFF_FFFF_FABC, 0xFFFF_FFFF_FFFF_FFFF]
            mutating func next() -> UInt64 { values.removeFirst() }
        }
        var generator = Fixed()
        #expect(
            UUIDv7.generate(milliseconds: 0x0123_4567_89AB, using: &generator) == "01234567-89ab-7abc-bfff-ffffffffffff"
        )
        let ids = (0..<1000).map { _ in UUIDv7.generate() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 36 && $0.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] })
    }
}

extension ResultJSONWriter {
    fileprivate func lineCopy(_ result: ProbeResult) -> [UInt8] {
        var writer = self
        return writer.line(result)
    }
}

@Suite struct ResultJSONWriterTests {
    static let now = Date(timeIntervalSince1970: 1_795_428_000.5)
    static let cert = CertificateInfo(
        subject: "CN=api.clínica \"quoted\"\\path", issuer: "CN=Example CA", sans: ["a.example", "127.0.0.1"],
        notBefore: now, notAfter: now.addingTimeInterval(86_400 * 39.5), sha256: "ab12", spkiSHA256: "q+/w=")

    static let samples: [ProbeResult] = [
        ResultJSONTests.sample,
        ProbeResult(
            startedAt: now, error: nil,
            phases: PhaseTimings(
                dns: 0.031, connect: 0.1, tls: 4.171, send: 0.58, wait: 100.5, receive: 0.049, total: 105.429),
            http: HTTPInfo(
                status: 200, version: "2", redirects: 3, redirectMilliseconds: 1.25, bodyBytes: 500_000,
                bodySHA256: "ff", remoteIP: "::1"),
            tls: TLSReport(
                version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", verified: true, leaf: cert, chain: [cert],
                now: now,
                clientCert: ClientCertificateReport(certificate: cert, sent: true, now: now)),
            assertions: [
                AssertionOutcome(name: "status", ok: false, actual: "503\n\t\u{01}"),
                AssertionOutcome(name: "São Paulo \\ \"clínica\" 🏥", ok: true, actual: "\u{1F}end\\"),
            ]),
        ProbeResult(
            startedAt: now, error: ProbeError(.dns, "Could not resolve host: x.invalid"),
            phases: PhaseTimings(dns: 1.204, total: 1.204)),
        retried,
        // Through proxies: one that refused the credentials, one whose address is not known.
        ProbeResult(
            startedAt: now, error: ProbeError(.proxyAuth, "proxy http://p.lan:3128 answered CONNECT with 407"),
            phases: PhaseTimings(dns: 0.01, connect: 0.2, proxy: 1.5, total: 1.71),
            proxy: ProxyInfo(url: "http://p.lan:3128", ip: "10.0.0.5", connectStatus: 407)),
        ProbeResult(
            startedAt: now, error: nil, phases: PhaseTimings(connect: 1, proxy: 0, total: 3),
            proxy: ProxyInfo(url: "socks5h://[::1]:1080", ip: nil)),
        // A tcp check: no response, so the address is top-level.
        ProbeResult(
            startedAt: now, error: nil, phases: PhaseTimings(dns: 0.01, connect: 0.2, wait: 3, total: 3.21),
            remoteIP: "2001:db8::7"),
        // Several times the writer's first 1 KB, escapes across each boundary.
        ProbeResult(
            startedAt: now, error: ProbeError(.internal, String(repeating: "ab\"c\\d\u{02}é\n", count: 400)),
            phases: PhaseTimings(total: 7)),
    ]

    /// A check that failed twice before the reported attempt.
    static var retried: ProbeResult {
        var failed = ProbeResult(
            startedAt: now, error: ProbeError(.connectRefused, "refused \"twice\""), phases: PhaseTimings(total: 0.25))
        var result = ProbeResult(startedAt: now.addingTimeInterval(1.5), error: nil, phases: PhaseTimings(total: 12.5))
        result.attempts = [ProbeResult.FailedAttempt(failed)]
        failed.error = nil
        result.attempts?.append(ProbeResult.FailedAttempt(failed))
        return result
    }

    @Test func aRetriedResultDecodesWithItsAttempts() throws {
        let line = ResultJSONWriter().lineCopy(Self.retried)
        let decoded = try ResultJSON.decoder().decode(ProbeResult.self, from: Data(line))
        #expect(decoded.attempts?.count == 2)
        #expect(decoded.attempts?.first?.error?.code == .connectRefused)
        #expect(decoded.attempts?.first?.totalMilliseconds == 0.25)
        #expect(
            !String(decoding: ResultJSONWriter().lineCopy(ResultJSONTests.sample), as: UTF8.self).contains("attempts"))
    }

    /// Phase times (microseconds / 1000) take the writer's fast path; other numbers do not.
    @Test func writesMillisecondsExactlyAsJSONEncoderDoes() throws {
        var generator = SplitMix64(seed: 7)
        var values: [Double] = [
            0.001, 0.01, 0.1, 0.5, 1.204, 999.999, 1000.001, -2.5, 0.0005, 1e-7, 1.0 / 3, 123_456_789.012, 1e13 + 0.5,
            0, -0.0, -3, 10, 123_456_789, 99_999_999_999_999, -1e14, 1e15, 1e300,
        ]
        for _ in 0..<3000 {
            let microseconds = Int64(generator.next() % 10_000_000_000) * (generator.next() % 5 == 0 ? -1 : 1)
            values.append(PhaseTimings.milliseconds(microseconds))
        }
        for value in values {
            var result = ResultJSONTests.sample
            result.phases = PhaseTimings(dns: value, total: value)
            var writer = ResultJSONWriter()
            let written = String(decoding: writer.line(result), as: UTF8.self)
            let expected = String(decoding: try ResultJSON.encoder().encode(result) + [0x0A], as: UTF8.self)
            #expect(written == expected, "\(value)")
            if written != expected { break }
        }
    }

    /// `Timestamp` computes the calendar date itself: glibc's `gmtime_r` is the reference, and the
    /// writer writes what the encoder does.
    @Test func writesTimestampsAsGlibcsCalendarAndJSONEncoderDo() throws {
        var generator = SplitMix64(seed: 11)
        // Leap days and century years (1900 and 2100 are not leap years, 2000 is), the epoch, a
        // time before it, and the last millisecond of a year.
        var milliseconds: [Int64] = [
            951_782_400_000, 951_868_799_999, -2_203_891_200_000, 4_107_542_400_000, 0, -1, -86_400_001,
            1_798_761_599_999, 253_402_300_799_999,
        ]
        for _ in 0..<3000 {
            // 1900 to 2400.
            milliseconds.append(Int64(generator.next() % 15_778_800_000_000) - 2_208_988_800_000)
        }
        for value in milliseconds {
            let date = Date(timeIntervalSince1970: Double(value) / 1000)
            #expect(Timestamp.format(date) == Self.glibcFormat(date), "\(value)")
            var result = ResultJSONTests.sample
            result.startedAt = date
            var writer = ResultJSONWriter()
            let written = String(decoding: writer.line(result), as: UTF8.self)
            let expected = String(decoding: try ResultJSON.encoder().encode(result) + [0x0A], as: UTF8.self)
            #expect(written == expected, "\(value)")
            if written != expected { break }
        }
    }

    /// `parse` counts days itself, without glibc's `timegm` (which takes the time zone lock): both
    /// agree on every field, also past a month's end (the 31st of February) and on a 60th second,
    /// from year 0000 to 9999.
    @Test func timestampsAreReadAsTimegmReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [(Int32, Int32, Int32, Int32, Int32, Int32)] = [
            (0, 1, 1, 0, 0, 0), (1970, 1, 1, 0, 0, 0), (1969, 12, 31, 23, 59, 60), (2000, 2, 29, 12, 0, 0),
            (2100, 2, 29, 0, 0, 0), (2026, 2, 31, 10, 0, 0), (2024, 2, 31, 10, 0, 0), (9999, 12, 31, 23, 59, 59),
            (1900, 3, 1, 0, 0, 0), (1600, 2, 29, 1, 2, 3),
        ]
        for _ in 0..<5_000 {
            cases.append(
                (
                    Int32.random(in: 0...9999, using: &generator), Int32.random(in: 1...12, using: &generator),
                    Int32.random(in: 1...31, using: &generator), Int32.random(in: 0...23, using: &generator),
                    Int32.random(in: 0...59, using: &generator), Int32.random(in: 0...60, using: &generator)
                ))
        }
        for (year, month, day, hour, minute, second) in cases {
            let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second)
            var parts = tm()
            (parts.tm_year, parts.tm_mon, parts.tm_mday) = (year - 1900, month - 1, day)
            (parts.tm_hour, parts.tm_min, parts.tm_sec) = (hour, minute, second)
            let expected = Date(timeIntervalSince1970: Double(timegm(&parts)))
            let read = Timestamp.parse(text)
            #expect(
                read == (Timestamp.representable.contains(expected.timeIntervalSince1970) ? expected : nil), "\(text)")
            if read != nil, read != expected { break }
        }
    }

    /// `date` through `gmtime_r`, as `Timestamp.format` writes it.
    static func glibcFormat(_ date: Date) -> String {
        let value = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = value.floorDivided(by: 1000)
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(value - seconds * 1000))
    }

    @Test(arguments: samples)
    func writesExactlyWhatJSONEncoderWrites(_ result: ProbeResult) throws {
        let expected = try ResultJSON.encoder().encode(result) + [0x0A]
        var writer = ResultJSONWriter()
        let written = writer.line(result)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    /// Timestamps are read only where they have a four-digit year in UTC: an offset can move year
    /// 0000 or 9999 past it, and the writer trapped on year -1 (found by `make fuzz`).
    @Test func timestampsOutsideFourDigitYearsInUTCAreRefused() throws {
        #expect(Timestamp.parse("0000-01-01T00:00:00+14:00") == nil)
        #expect(Timestamp.parse("9999-12-31T23:00:00-02:00") == nil)
        for (text, written) in [
            ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
            ("2026-11-23T10:00:00-03:00", "2026-11-23T13:00:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ] {
            let date = try #require(Timestamp.parse(text), "\(text)")
            #expect(Timestamp.format(date) == written)
            var result = ResultJSONTests.sample
            result.startedAt = date
            let line = String(decoding: ResultJSONWriter().lineCopy(result), as: UTF8.self)
            #expect(line.contains(#""started_at":"\#(written)""#), "\(line)")
        }
    }

    /// RFC 3339 as written: offsets, either case of T and Z, any fraction; nothing else. The text
    /// that made ICU's parser trap (SIGFPE) under `make fuzz` is refused like any malformed time.
    @Test func timestampsAreReadAsRFC3339Says() throws {
        for (text, written) in [
            ("2026-11-23T10:00:00Z", "2026-11-23T10:00:00.000Z"),
            ("2026-11-23t10:00:00.5z", "2026-11-23T10:00:00.500Z"),
            ("2026-11-23T07:00:00.123456789-03:00", "2026-11-23T10:00:00.123Z"),
            ("2026-11-23T23:30:00+05:30", "2026-11-23T18:00:00.000Z"),
        ] {
            #expect(Timestamp.parse(text).map(Timestamp.format) == written, "\(text)")
        }
        let zeros = String(repeating: "0", count: 80)
        for text in [
            "2020-02-01T00:00:00.\(zeros)Zd", "2020-02-01T00:00:00.\(zeros)Z", "2026-11-23T10:00:00",
            "2026-11-23T10:00:00.Z",
            "2026-11-23T10:00:00+0300", "2026-11-23T10:00:00+03:00x", "2026-11-23 10:00:00Z", "2026-13-01T00:00:00Z",
        ] {
            let expected = text == "2020-02-01T00:00:00.\(zeros)Z" ? "2020-02-01T00:00:00.000Z" : nil
            #expect(Timestamp.parse(text).map(Timestamp.format) == expected, "\(text)")
        }
    }
}
