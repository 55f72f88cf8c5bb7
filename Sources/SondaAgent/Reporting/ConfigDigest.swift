import Crypto
import SondaConfig

/// The `config_hash` an agent's heartbeat carries: SHA-256 over the SHA-256 of each file its
/// configuration was read from (the agent file, then each included or named file in the order
/// read), each digest as 64 hex digits and a newline. A change to any of those files, an include
/// added or dropped, changes it; where the files live does not.
public enum ConfigDigest {
    public static func of(_ config: AgentConfig) -> String {
        let lines = config.sourceFiles.map { hex(SHA256.hash(data: $0.bytes)) + "\n" }.joined()
        return hex(SHA256.hash(data: Array(lines.utf8)))
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}
