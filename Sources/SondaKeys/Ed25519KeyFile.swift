import Crypto
import Foundation

/// An Ed25519 private key on disk, as both `keygen` commands write it: base64 of the 32-byte key
/// and a newline, mode 0600. Its public half is written `ed25519:BASE64` (the `agents:` entries,
/// `sonda-aggregator audit verify --public-key`), and named by a short key id.
public enum Ed25519KeyFile {
    public struct Problem: Error, CustomStringConvertible {
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private let name: String
            private init(_ name: String) { self.name = name }

            /// The file to create was there already.
            public static let exists = Code("exists")
            /// The key could not be written (permissions, a missing directory, a full disk).
            public static let cannotWrite = Code("cannot_write")
            public static let unreadable = Code("unreadable")
            /// The file is readable but holds no Ed25519 key.
            public static let notAKey = Code("not_a_key")

            public var description: String { name }
        }

        public var code: Code
        public var description: String
    }

    /// Writes a new key to `path`. An existing file is an error (`Problem.Code.exists`) unless
    /// `replacing`; either way the file appears whole or not at all (written beside it, then linked
    /// or renamed into place).
    public static func generate(to path: String, replacing: Bool = false) throws -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        let text = key.rawRepresentation.base64EncodedString() + "\n"
        let temporary = "\(path).new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(.cannotWrite, "cannot create '\(path)'") }
        defer { unlink(temporary) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let synced = written == text.utf8.count && fsync(fd) == 0
        let error = errno
        close(fd)
        guard synced else {
            errno = error
            throw failure(.cannotWrite, "cannot write '\(path)'")
        }
        if replacing {
            guard rename(temporary, path) == 0 else { throw failure(.cannotWrite, "cannot replace '\(path)'") }
        } else if link(temporary, path) != 0 {
            throw failure(errno == EEXIST ? .exists : .cannotWrite, "cannot create '\(path)'")
        }
        return key
    }

    /// The key in `path`; `madeBy` names the command that makes one, for the error.
    public static func load(from path: String, madeBy: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(code: .unreadable, description: "cannot read key file '\(path)'")
        }
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw Problem(code: .notAKey, description: "'\(path)' is not an Ed25519 key file (\(madeBy) makes one)")
        }
        return key
    }

    /// `ed25519:BASE64` of the 32-byte public key.
    public static func publicKeyText(_ key: Curve25519.Signing.PublicKey) -> String {
        "ed25519:" + key.rawRepresentation.base64EncodedString()
    }

    /// The public key written as `publicKeyText` writes it; nil for anything else.
    public static func publicKey(text: String) -> Curve25519.Signing.PublicKey? {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("ed25519:"), let raw = Data(base64Encoded: String(text.dropFirst(8))), raw.count == 32
        else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    /// A short name for a public key: the first 16 hex digits of SHA-256 over its 32 bytes.
    public static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    private static func failure(_ code: Problem.Code, _ what: String) -> Problem {
        Problem(code: code, description: "\(what): \(String(cString: strerror(errno)))")
    }
}
