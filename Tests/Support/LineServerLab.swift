import Foundation

/// `line-server.py` for the tcp:// cases: an SMTP-like banner, echo, MLLP (HL7) and servers that
/// answer wrong, never answer or close at once, on loopback; the banner and MLLP ones also behind
/// TLS with the TLS lab's `localhost` certificate. One lab serves the whole test process.
public struct LineServerLab: Sendable, Decodable {
    public let banner: Int
    public let echo: Int
    public let mllp: Int
    public let wrong: Int
    public let silent: Int
    public let closing: Int
    public let tlsBanner: Int
    public let tlsMLLP: Int

    enum CodingKeys: String, CodingKey {
        case banner, echo, mllp, wrong, silent, closing
        case tlsBanner = "tls-banner"
        case tlsMLLP = "tls-mllp"
    }

    /// The reply the MLLP server sends to any block: an HL7 ACK framed by \x0b ... \x1c\r.
    public static let acknowledgement = "MSA|AA|1"

    public static func shared() throws -> LineServerLab { try sharedLab.get() }

    private static let sharedLab: Result<LineServerLab, any Error> = Result {
        let tls = try TLSLab.shared()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-lines-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let portsFile = "\(dir)/ports.json"
        let script = TLSLab.packageRoot.appendingPathComponent("Tests/Support/line-server.py").path
        try ProxyLab.start(
            "/usr/bin/python3", [script, portsFile, "\(tls.dir)/pki/good-chain.pem", "\(tls.dir)/pki/good.key"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: portsFile) {
                return try JSONDecoder().decode(LineServerLab.self, from: data)
            }
            usleep(20_000)
        }
        throw ChildProcess.SpawnFailed(description: "line-server.py wrote no ports to \(portsFile)")
    }
}
