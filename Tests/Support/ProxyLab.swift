import Foundation
import Synchronization

/// Real proxies from Debian on loopback for the proxy cases: tinyproxy open, with Basic auth, and
/// refusing every CONNECT (it allows only port 1); microsocks as a SOCKS5 proxy, open and with a
/// user; and `https-proxy.py`, a CONNECT proxy behind TLS with the TLS lab's `localhost`
/// certificate (Debian packages none). One lab serves the whole test process; its proxies are
/// killed when the process exits.
public struct ProxyLab: Sendable {
    public static let user = "sonda"
    /// tinyproxy's config takes letters, digits and `-._` in a password (the percent-encoding of
    /// others is tested on the loader).
    public static let password = "pr0xy_s3cret-x"

    /// tinyproxy, forwarding anything.
    public let open: Int
    /// tinyproxy with `BasicAuth sonda <password>`.
    public let authenticated: Int
    /// tinyproxy that answers every CONNECT (but to port 1) with 403.
    public let refusing: Int
    /// microsocks without authentication.
    public let socks: Int
    /// microsocks with user `sonda`.
    public let socksAuthenticated: Int
    /// An HTTPS proxy whose certificate the TLS lab's CA issued.
    public let https: Int

    public static func shared() throws -> ProxyLab { try sharedLab.get() }

    /// `http://user:password@127.0.0.1:port` with the password percent-encoded.
    public static func url(_ scheme: String, port: Int, credentials: Bool = false) -> String {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "\(scheme)://\(credentials ? "\(user):\(encoded)@" : "")127.0.0.1:\(port)"
    }

    private static let sharedLab: Result<ProxyLab, any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-proxies-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lab = ProxyLab(
            open: try tinyproxy(dir, "open", []),
            authenticated: try tinyproxy(dir, "auth", ["BasicAuth \(user) \(password)"]),
            refusing: try tinyproxy(dir, "refusing", ["ConnectPort 1"]),
            socks: try microsocks([]),
            socksAuthenticated: try microsocks(["-u", user, "-P", password]),
            https: try httpsProxy(dir, lab: try TLSLab.shared()))
        return lab
    }

    private static func tinyproxy(_ dir: String, _ name: String, _ extra: [String]) throws -> Int {
        try listening { port in
            let config = "\(dir)/\(name).conf"
            let lines = [
                "Port \(port)", "Listen 127.0.0.1", "Timeout 60", "MaxClients 64", "LogLevel Warning",
                "LogFile \"\(dir)/\(name).log\"",
            ]
            try (lines + extra).joined(separator: "\n").write(toFile: config, atomically: true, encoding: .utf8)
            return try start(executable("tinyproxy", package: "tinyproxy"), ["-d", "-c", config])
        }
    }

    private static func microsocks(_ extra: [String]) throws -> Int {
        try listening { port in
            try start(executable("microsocks", package: "microsocks"), ["-i", "127.0.0.1", "-p", String(port)] + extra)
        }
    }

    /// Starts a server on a free port and waits until it listens. The port is free when chosen,
    /// but another test process may bind it before the server does (seen while two `make test`
    /// ran at once): a server that exits instead of listening is started again on another port.
    static func listening(_ server: (Int) throws -> pid_t) throws -> Int {
        for _ in 0..<5 {
            let port = try unusedLoopbackPort()
            let pid = try server(port)
            let deadline = Date().addingTimeInterval(60)
            var status: Int32 = 0
            while Date() < deadline, waitpid(pid, &status, WNOHANG) == 0 {
                if let client = try? RawHTTPClient(port: port, timeout: .seconds(1)) {
                    client.close()
                    return port
                }
                usleep(20_000)
            }
        }
        throw ChildProcess.SpawnFailed(description: "a server did not listen on loopback in 5 tries")
    }

    private static func httpsProxy(_ dir: String, lab: TLSLab) throws -> Int {
        let portFile = "\(dir)/https.port"
        let script = TLSLab.packageRoot.appendingPathComponent("Tests/Support/https-proxy.py").path
        try start("/usr/bin/python3", [script, "\(lab.dir)/pki/good-chain.pem", "\(lab.dir)/pki/good.key", portFile])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap({ Int($0) }) { return port }
            usleep(20_000)
        }
        throw ChildProcess.SpawnFailed(description: "https-proxy.py wrote no port to \(portFile)")
    }

    private static func executable(_ name: String, package: String) throws -> String {
        let path = "/usr/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ChildProcess.SpawnFailed(
                description: "\(path) is missing: apt-get install \(package) (make test does)")
        }
        return path
    }

    /// Kills every server `start` started when the test process exits.
    private static let killChildrenAtExit: Void = {
        atexit {
            for pid in children.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
    }()

    /// Starts a server for the rest of the test process (killed when it exits).
    @discardableResult
    static func start(_ executable: String, _ arguments: [String]) throws -> pid_t {
        _ = killChildrenAtExit
        let log = ChildProcess.temporaryStem() + ".log"
        let pid = try ChildProcess.spawn(executable, arguments, environment: [:], stdout: log, stderr: log)
        children.withLock { $0.append(pid) }
        return pid
    }
}

private let children = Mutex<[pid_t]>([])
