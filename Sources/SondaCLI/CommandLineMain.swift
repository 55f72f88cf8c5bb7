import ArgumentParser
import Foundation

/// A failure the user can act on, reported as one line on stderr with the exit status of its code.
public struct CommandFailure: Error, Sendable {
    /// Why a command stopped, as its exit status: sysexits.h's numbers where one fits, so that a
    /// script or systemd can tell a usage mistake from a broken config from an unreachable server.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let exitStatus: Int32
        private init(_ exitStatus: Int32) { self.exitStatus = exitStatus }
        /// A status of a command's own, named where that command lists them (`audit verify`'s findings).
        public init(documented exitStatus: Int32) { self.exitStatus = exitStatus }

        /// What was asked for was done and found a problem: a failed check, a broken audit chain,
        /// an answer that could not be used.
        public static let failed = Code(1)
        /// The command line is wrong (EX_USAGE).
        public static let usage = Code(64)
        /// An input file is missing or unreadable (EX_NOINPUT).
        public static let noInput = Code(66)
        /// A server or database could not be reached (EX_UNAVAILABLE).
        public static let unavailable = Code(69)
        /// A file could not be created (EX_CANTCREAT).
        public static let cannotCreate = Code(73)
        /// A configuration file, key or credential is wrong (EX_CONFIG).
        public static let config = Code(78)

        public var exitCode: ExitCode { ExitCode(exitStatus) }
        public var description: String { "\(exitStatus)" }
    }

    public var message: String
    public var code: Code

    public init(message: String, code: Code = .usage) {
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
                Foundation.exit(failure.code.exitStatus)
            }
            let code = exitCode(for: error)
            if error is ExitCode || error is CleanExit || code == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("\(tool): error: \(message(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? CommandFailure.Code.usage.exitStatus : code.rawValue)
        }
    }
}
