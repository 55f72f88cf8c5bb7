import Foundation
import TestSupport

/// Runs the built `sonda-agent` binary as a user would and captures what it prints.
struct AgentCLI {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    static let binary: String = {
        let root = TLSLab.packageRoot
        for configuration in ["debug", "release"] {
            let path = root.appendingPathComponent(".build/\(configuration)/sonda-agent").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        fatalError("sonda-agent is not built: run `swift build` (make test does)")
    }()

    static func run(_ arguments: String...) throws -> Run { try run(arguments) }
}

extension AgentCLI {
    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
