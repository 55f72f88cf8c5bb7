import Foundation
import Synchronization

/// nginx virtual hosts for TLS and HTTP cases, made by `scripts/tls-lab` (a CA, an intermediate,
/// good / expired / expiring / wrong-host / untrusted / leaf-only certificates, TLS 1.3-only and
/// TLS 1.2-only hosts, delays, redirects and error statuses) on ephemeral loopback ports.
///
/// One lab serves the whole test process; it is stopped when the process exits.
public struct TLSLab: Sendable, Decodable {
    public let dir: String
    public let ca: String
    public let bundle: String
    public let ports: [String: Int]

    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The lab for this test process, started on first use.
    public static func shared() throws -> TLSLab { try sharedLab.get() }

    private static let sharedLab: Result<TLSLab, any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-lab-\(getpid())").path
        let output = try run(packageRoot.appendingPathComponent("scripts/tls-lab").path, ["start", dir])
        let lab = try JSONDecoder().decode(TLSLab.self, from: Data(output.utf8))
        labDirectory.withLock { $0 = dir }
        atexit {
            guard let dir = labDirectory.withLock({ $0 }) else { return }
            _ = try? TLSLab.run(TLSLab.packageRoot.appendingPathComponent("scripts/tls-lab").path, ["stop", dir])
            try? FileManager.default.removeItem(atPath: dir)
        }
        return lab
    }

    /// The path of one of the package's executables, from the folder the running test bundle was
    /// built into, so the tests run the binaries of their own build and never a stale one of the
    /// other configuration (as swift-argument-parser's test helpers find theirs).
    public static func builtBinary(_ name: String) -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            fatalError("\(name) is not built beside the tests in \(productsDirectory.path): run `make test`")
        }
        return path
    }

    /// The folder of the running test bundle's executable.
    static let productsDirectory = URL(
        fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    ).deletingLastPathComponent()

    public func url(_ host: String, _ path: String = "/") -> String {
        let scheme = host == "http" ? "http" : "https"
        return "\(scheme)://localhost:\(port(host))\(path)"
    }

    public func port(_ host: String) -> Int {
        guard let port = ports[host] else { fatalError("tls-lab has no host '\(host)'; it has \(ports.keys.sorted())") }
        return port
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = try ChildProcess.runBlocking(executable, arguments)
        guard output.status == 0 else {
            throw CommandFailed(
                description: "\(executable) \(arguments.joined(separator: " ")) failed: \(output.stderr)")
        }
        return output.stdout
    }
}

private let labDirectory = Mutex<String?>(nil)

/// A listening loopback socket that never accepts: connections complete in the kernel and then
/// hear nothing, like a hung server.
public final class SilentListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    /// - Parameter backlog: the accept queue; a full queue makes the kernel drop new SYNs, so
    ///   connecting hangs as it does to a host that does not answer.
    public init(backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TLSLab.CommandFailed(description: "cannot listen on 127.0.0.1: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Fills the accept queue so that further connections hang in the TCP handshake.
    public func fillBacklog() throws {
        for _ in 0..<8 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            _ = fcntl(client, F_SETFL, O_NONBLOCK)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            clients.append(client)
        }
        usleep(50_000)
    }

    private var clients: [Int32] = []

    deinit {
        clients.forEach { close($0) }
        close(fd)
    }
}
