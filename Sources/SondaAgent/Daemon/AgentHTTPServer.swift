import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import SondaCore
import SondaHTTPServer
import Synchronization

/// The agent's small HTTP listener for `/health` and `/metrics`, bound to loopback or a scrape
/// network only. It is the aggregator's server stack (HummingbirdCore on SwiftNIO) with the same
/// `ServerLimits`: a scraper that trickles its request, stops reading its answer or resets the
/// connection holds up no other scrape and costs the agent nothing but that connection. It runs
/// on one thread of its own, its tasks included, never on the probe threads or the task thread.
public final class AgentHTTPServer: Sendable {
    public let port: Int
    private let server: Server<HTTP1Channel>
    private let running: Task<Void, Never>
    private let group: MultiThreadedEventLoopGroup

    public struct BindFailed: Error, CustomStringConvertible {
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private let name: String
            private init(_ name: String) { self.name = name }

            /// `listen:` is not a host:port.
            public static let badAddress = Code("bad_address")
            /// The system refused the socket (the port is taken, a privileged port, no such address).
            public static let refused = Code("refused")

            public var description: String { name }
        }

        public var code: Code
        public var description: String
    }

    /// Listens on `address`, "host:port" ("[::1]:port" for IPv6; port 0 picks a free one), and
    /// returns once the socket is bound.
    public static func start(
        address: String, metrics: AgentMetrics, limits: ServerLimits = ServerLimits(), logger: Logger? = nil
    ) async throws -> AgentHTTPServer {
        let (host, requested) = try parse(address)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Named as the agent's other threads are, for `top -H` and the tests.
        group.next().execute { nameCurrentThread("sonda-http") }
        let bound = BindOutcome()
        // Hummingbird logs each request at debug and its start at info: the agent logs its own.
        var quiet = logger ?? Logger(label: "sonda-agent.http")
        quiet.logLevel = .warning
        let server = Server(
            childChannelSetup: HTTP1Channel(
                responder: { request, writer, _ in
                    let (head, body) = respond(to: request, metrics: metrics)
                    try await writer.write(response: head, body: body)
                },
                configuration: limits.http1Configuration()),
            configuration: .init(
                address: .hostname(host, port: requested), availableConnectionsDelegate: limits.connections),
            onServerRunning: { channel in bound.resolve(.success(channel.localAddress?.port ?? requested)) },
            eventLoopGroup: group,
            logger: quiet)
        // The server's tasks (its accept loop, one per connection) run on its event loop too, not
        // with the agent's other tasks: `/health` answers even when those are stuck.
        let running = Task(executorPreference: EventLoopExecutor(group.next())) {
            do { try await server.run() } catch {
                // Before it listens only the bind fails (NIO says "bind(descriptor:ptr:bytes:): …").
                let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
                bound.resolve(
                    .failure(BindFailed(code: .refused, description: "cannot listen on \(address): \(reason)")))
            }
        }
        do {
            let port = try await bound.value
            return AgentHTTPServer(port: port, server: server, running: running, group: group)
        } catch {
            running.cancel()
            _ = await running.value
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        port: Int, server: Server<HTTP1Channel>, running: Task<Void, Never>, group: MultiThreadedEventLoopGroup
    ) {
        self.port = port
        self.server = server
        self.running = running
        self.group = group
    }

    /// Stops listening, closes idle connections and lets answers under way finish (within the
    /// response timeout).
    public func close() async {
        try? await server.shutdownGracefully()
        _ = await running.value
        try? await group.shutdownGracefully()
    }

    static func parse(_ address: String) throws -> (host: String, port: Int) {
        let colon = address.lastIndex(of: ":")
        let port = colon.flatMap { UInt16(address[address.index(after: $0)...]) }
        var host = colon.map { String(address[..<$0]) } ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port, !host.isEmpty else {
            throw BindFailed(code: .badAddress, description: "listen address must be host:port, got '\(address)'")
        }
        return (host == "localhost" ? "127.0.0.1" : host, Int(port))
    }

    static func respond(to request: Request, metrics: AgentMetrics) -> (HTTPResponse, ResponseBody) {
        guard request.method == .get else { return text(.methodNotAllowed, "GET only\n") }
        switch request.uri.path {
        case "/health":
            let health = metrics.health()
            return text(
                health.httpStatus == 200 ? .ok : .serviceUnavailable, health.json + "\n", type: "application/json")
        case "/metrics":
            return text(.ok, metrics.render(), type: "text/plain; version=0.0.4; charset=utf-8")
        default:
            return text(.notFound, "not found: try /metrics or /health\n")
        }
    }

    private static func text(
        _ status: HTTPResponse.Status, _ body: String, type: String = "text/plain"
    ) -> (HTTPResponse, ResponseBody) {
        let buffer = ByteBuffer(string: body)
        return (
            HTTPResponse(
                status: status, headerFields: [.contentType: type, .contentLength: "\(buffer.readableBytes)"]),
            ResponseBody(byteBuffer: buffer)
        )
    }
}

/// Runs the tasks that prefer it on one event loop's thread.
private final class EventLoopExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The first of "bound on this port" and "could not bind", for whoever waits on it.
private final class BindOutcome: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiting: CheckedContinuation<Int, any Error>?)>(
        (nil, nil))

    func resolve(_ result: Result<Int, any Error>) {
        let waiting = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume(with: result)
    }

    var value: Int {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<Int, any Error>? in
                    if state.result == nil { state.waiting = continuation }
                    return state.result
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}
