import Foundation

/// The password a URL may carry in its userinfo (`https://user:PASSWORD@host/`): libcurl sends it
/// as HTTP Basic credentials, so it is a secret wherever the URL is shown.
extension SecretRedactor {
    /// The password of `url`'s userinfo as written (percent-encoded if it was), or nil.
    public static func password(in url: String) -> String? {
        passwordRange(in: url).map { String(url[$0]) }
    }

    private static func passwordRange(in url: String) -> Range<String.Index>? {
        // The standard library's search: Foundation's range(of:) goes through CFStringFind, and
        // this runs for every result's URL.
        guard let scheme = url.firstRange(of: "://") else { return nil }
        let authority = url[scheme.upperBound...].prefix { !"/?#".contains($0) }
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return nil
        }
        let range = authority.index(after: colon)..<at
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
