import Foundation

/// Runs a program to completion with posix_spawn and waitpid. Foundation's Process can hang in
/// waitUntilExit when the cooperative thread pool is busy, and a daemon it starts may keep a pipe
/// open; output goes through temporary files instead.
public enum ChildProcess {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    public struct SpawnFailed: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Runs to completion, polling with `Task.sleep`, so a long child does not hold one of the few
    /// Swift concurrency threads that the parallel tests share.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:])
        async throws -> Output
    {
        let stem = temporaryStem()
        let pid = try spawn(executable, arguments, environment: environment, stdout: stem + ".out", stderr: stem + ".err")
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        return collect(stem, status: status)
    }

    /// Runs to completion, blocking the calling thread (for one-time set-up such as the lab).
    public static func runBlocking(_ executable: String, _ arguments: [String]) throws -> Output {
        let stem = temporaryStem()
        let pid = try spawn(executable, arguments, environment: [:], stdout: stem + ".out", stderr: stem + ".err")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return collect(stem, status: status)
    }

    static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    static func temporaryStem() -> String {
        "\(FileManager.default.temporaryDirectory.path)/sonda-child-\(getpid())-\(UUID().uuidString)"
    }

    /// Starts `executable` with no stdin and its output in files (stderr into stdout's when the
    /// paths are equal).
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], stdout: String, stderr: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw SpawnFailed(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    private static func collect(_ stem: String, status: Int32) -> Output {
        defer {
            unlink(stem + ".out")
            unlink(stem + ".err")
        }
        return Output(
            status: exitStatus(status),
            stdout: (try? String(contentsOfFile: stem + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stem + ".err", encoding: .utf8)) ?? "")
    }
}

/// A child that keeps running while the test talks to it (a server, the agent daemon).
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        logPath = ChildProcess.temporaryStem() + ".log"
        pid = try ChildProcess.spawn(executable, arguments, environment: environment, stdout: logPath, stderr: logPath)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits up to `timeout` for the process to exit; its exit status, or nil if it is still running.
    /// Polls without blocking a Swift concurrency thread, so other tests keep running meanwhile.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        repeat {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return ChildProcess.exitStatus(status) }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return nil
    }

    /// The port a server that bound port 0 wrote to `file` (`sonda-aggregator serve --port-file`),
    /// once it is there (up to 10 s).
    public func port(writtenTo file: String) async throws -> Int {
        for _ in 0..<400 {
            if let port = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap({ Int($0) }) { return port }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ChildProcess.SpawnFailed(description: "no port in \(file); the process logged:\n\(log)")
    }

    /// The port a `sonda-agent run --listen HOST:0` bound, from the line it logs at start.
    public func agentListenPort() async throws -> Int {
        for _ in 0..<400 {
            if let match = log.firstMatch(of: /on port (\d+),/), let port = Int(match.1) { return port }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ChildProcess.SpawnFailed(description: "the agent logged no listen port:\n\(log)")
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        unlink(logPath)
    }
}
