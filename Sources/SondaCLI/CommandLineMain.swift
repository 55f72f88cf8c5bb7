import ArgumentParser
import Foundation

/// A failure the user can act on, reported as one line on stderr with a distinct exit code:
/// 64 usage, 69 service unavailable, 73 cannot create, 78 configuration, 1 a failed check.
public struct CommandFailure: Error, Sendable {
    public var message: String
    public var code: Int32

    public init(message: String, code: Int32 = 64) {
        self.message = message
        self.code = code
    }
}

extension ParsableCommand {
    /// Runs the command line like `main()`, but every error becomes one line on stderr,
    /// `TOOL: error: …`, and its exit code; ArgumentParser's usage blocks are left out.
    public static func mainReportingErrors(tool: String) async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let failure = error as? CommandFailure {
                FileHandle.standardError.write(Data("\(tool): error: \(failure.message)\n".utf8))
                Foundation.exit(failure.code)
            }
            let code = exitCode(for: error)
            if error is ExitCode || error is CleanExit || code == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("\(tool): error: \(message(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? 64 : code.rawValue)
        }
    }
}
