import Foundation
import Synchronization

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
    /// Its exit status once reaped; from then on its pid may belong to another process.
    private let reaped = Mutex<Int32?>(nil)

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        logPath = ChildProcess.temporaryStem() + ".log"
        pid = try ChildProcess.spawn(executable, arguments, environment: environment, stdout: logPath, stderr: logPath)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Signals the process unless it has exited and been reaped (its pid may be reused by then).
    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Its exit status if it has exited (reaping it), or nil if it is still running; does not wait.
    public var exitStatus: Int32? {
        reaped.withLock { status in
            var raw: Int32 = 0
            if status == nil, waitpid(pid, &raw, WNOHANG) == pid { status = ChildProcess.exitStatus(raw) }
            return status
        }
    }

    /// Waits up to `timeout` for the process to exit; its exit status, or nil if it is still running.
    /// Polls without blocking a Swift concurrency thread, so other tests keep running meanwhile.
    public func wait(timeout: Duration = generousTimeout) async -> Int32? {
        var status: Int32?
        _ = await eventually(timeout: timeout, every: .milliseconds(20)) {
            status = exitStatus
            return status != nil
        }
        return status
    }

    /// The port a server that bound port 0 wrote to `file` (`sonda-aggregator serve --port-file`),
    /// once it is there; throws if the process exits first, or after `timeout`.
    public func port(writtenTo file: String, timeout: Duration = generousTimeout) async throws -> Int {
        var port: Int?
        _ = await eventually(timeout: timeout, every: .milliseconds(25)) {
            port = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int($0) }
            return port != nil || exitStatus != nil
        }
        guard let port else {
            throw ChildProcess.SpawnFailed(description: "no port in \(file); the process logged:\n\(log)")
        }
        return port
    }

    /// The port a `sonda-agent run --listen HOST:0` bound, from the line it logs at start; throws
    /// if the agent exits first, or after `timeout`.
    public func agentListenPort(timeout: Duration = generousTimeout) async throws -> Int {
        var port: Int?
        _ = await eventually(timeout: timeout, every: .milliseconds(25)) {
            port = log.firstMatch(of: /on port (\d+),/).flatMap { Int($0.1) }
            return port != nil || exitStatus != nil
        }
        guard let port else { throw ChildProcess.SpawnFailed(description: "the agent logged no listen port:\n\(log)") }
        return port
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(logPath)
    }
}
