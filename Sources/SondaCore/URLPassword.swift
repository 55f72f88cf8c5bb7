import Foundation

/// The password a URL may carry in its userinfo (`https://user:PASSWORD@host/`): libcurl sends it
/// as HTTP Basic credentials, so it is a secret wherever the URL is shown.
extension SecretRedactor {
    /// The password of `url`'s userinfo as written (percent-encoded if it was), or nil.
    public static func password(in url: String) -> String? {
        passwordRange(in: url).map { String(url[$0]) }
    }

    private static func passwordRange(in url: String) -> Range<String.Index>? {
        // Over the UTF-8 bytes: every delimiter is ASCII, so each index found is also a character
        // boundary. The generic `firstRange(of:)` cost 30 000 instructions a URL, and this runs
        // for every result's URL.
        let bytes = url.utf8
        var scheme: String.Index?
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":"), bytes[index...].starts(with: "://".utf8) {
                scheme = bytes.index(index, offsetBy: 3)
                break
            }
            index = bytes.index(after: index)
        }
        guard let authorityStart = scheme else { return nil }
        var at: String.Index?
        index = authorityStart
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            if byte == UInt8(ascii: "@") { at = index }
            index = bytes.index(after: index)
        }
        guard let at, let colon = bytes[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let range = bytes.index(after: colon)..<at
        return range.isEmpty ? nil : range
    }

    /// Adds the password of `url`'s userinfo, as written and percent-decoded, to the secrets.
    public mutating func addPassword(of url: String) {
        guard let password = Self.password(in: url) else { return }
        add(password)
        if let decoded = password.removingPercentEncoding, decoded != password { add(decoded) }
    }

    /// `url` with the password of its userinfo masked (`https://user:[redacted]@host/`), for logs
    /// and messages; a URL without one is returned as it is.
    public static func withoutPassword(_ url: String) -> String {
        guard let range = passwordRange(in: url) else { return url }
        return url.replacingCharacters(in: range, with: mask)
    }
}
