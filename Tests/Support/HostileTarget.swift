import Foundation

/// `faults/hostile-target.py`: hostile and broken servers on loopback, one port per mode (a body
/// trickled a byte a second, endless headers, 10 GiB bodies, invalid UTF-8, garbage instead of
/// HTTP, 1 000 redirects; over TLS with the lab's certificate, an alert mid-handshake and a reset
/// after it). The process is killed when this is released.
public final class HostileTarget: Sendable {
    public let process: BackgroundProcess
    public let ports: [String: Int]

    public init(directory: String) async throws {
        let lab = try TLSLab.shared()
        let portFile = "\(directory)/hostile.ports"
        let process = try BackgroundProcess(
            "/usr/bin/python3",
            [
                TLSLab.packageRoot.appendingPathComponent("faults/hostile-target.py").path, "--port-file", portFile,
                "--cert", "\(lab.dir)/pki/good-chain.pem", "--key", "\(lab.dir)/pki/good.key",
            ])
        var ports: [String: Int]?
        _ = await eventually(every: .milliseconds(25)) {
            ports = (try? Data(contentsOf: URL(fileURLWithPath: portFile))).flatMap {
                try? JSONDecoder().decode([String: Int].self, from: $0)
            }
            return ports != nil || process.exitStatus != nil
        }
        guard let ports else { throw ChildProcess.SpawnFailed(description: "hostile-target: \(process.log)") }
        self.process = process
        self.ports = ports
    }

    /// The URL of a mode: https://localhost:PORT for the TLS modes (verify with the lab's CA).
    public func url(_ mode: String, path: String = "/") -> String {
        guard let port = ports[mode] else { fatalError("hostile-target has no mode '\(mode)': \(ports.keys.sorted())") }
        return mode.hasPrefix("tls-") ? "https://localhost:\(port)\(path)" : "http://127.0.0.1:\(port)\(path)"
    }

    /// Connections the server accepted for a mode so far (it prints "MODE n" for each).
    public func connections(_ mode: String) -> Int {
        process.log.split(separator: "\n").last { $0.hasPrefix(mode + " ") }.flatMap {
            Int($0.split(separator: " ")[1])
        }
            ?? 0
    }
}
