import ArgumentParser
import Foundation
import SondaCLI
import SondaKeys

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write the aggregator's Ed25519 key for signing audit checkpoints (mode 0600); print its public key."
    )

    @Option(help: "Where to write the private key (audit: signing_key:).")
    var out: String

    @Flag(help: "Replace an existing key file (checkpoints signed with the old key then need the old public key).")
    var force = false

    func run() throws {
        do {
            let key = try Ed25519KeyFile.generate(to: out, replacing: force).publicKey
            let note =
                "wrote \(out) (keep it secret; mode 0600); its public key, id \(Ed25519KeyFile.keyID(key)), "
                + "for audit verify --public-key, follows on stdout\n"
            FileHandle.standardError.write(Data(note.utf8))
            print(Ed25519KeyFile.publicKeyText(key))
        } catch let problem as Ed25519KeyFile.Problem {
            throw CommandFailure(
                message: problem.description + (problem.code == .exists ? " (it exists; give --force to replace it)" : ""),
                code: .cannotCreate)
        }
    }
}
