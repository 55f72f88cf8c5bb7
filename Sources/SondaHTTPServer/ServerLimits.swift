import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// What one HTTP server of Sonda's (the aggregator's API, the agent's `/metrics`) allows a client,
/// so that a slow or stalled one holds up no other: a request head must arrive within
/// `requestTimeout` of the connection's start or of its previous answer, an answer must be taken
/// within `responseTimeout`, and past `maxConnections` new connections wait in the backlog.
public struct ServerLimits: Sendable {
    public var requestTimeout: Duration
    public var responseTimeout: Duration
    public var maxConnections: Int
    public var maxRequestHeadBytes: Int

    public init(
        requestTimeout: Duration = .seconds(5), responseTimeout: Duration = .seconds(10), maxConnections: Int = 64,
        maxRequestHeadBytes: Int = 8192
    ) {
        self.requestTimeout = requestTimeout
        self.responseTimeout = responseTimeout
        self.maxConnections = maxConnections
        self.maxRequestHeadBytes = maxRequestHeadBytes
    }

    /// HTTP/1.1 with these limits, `handlers` after the limits' own.
    public func http1Configuration(
        handlers: @escaping @Sendable () -> [any RemovableChannelHandler] = { [] }
    ) -> HTTP1Channel.Configuration {
        let responseTimeout = TimeAmount(responseTimeout)
        return .init(
            additionalChannelHandlers: [ResponseDeadline(timeout: responseTimeout)] + handlers(),
            // Hummingbird's idle timeout counts from the connection's start or its last answer
            // and sees only whole request parts, so a head trickled a byte at a time never
            // counts as activity: it is the request timeout.
            idleTimeout: TimeAmount(requestTimeout),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maxRequestHeadBytes, maxHeaderListSize: maxRequestHeadBytes,
                maxHeaderFieldCount: 100))
    }

    /// Accepts at most `maxConnections` at once; the rest wait in the kernel's backlog.
    public var connections: any AvailableConnectionsDelegate { MaximumAvailableConnections(maxConnections) }
}

/// Closes a connection whose answer has not all been taken `timeout` after its head was written:
/// a client that stops reading holds its socket buffers, never the server. The send buffer is
/// fixed at `sendBufferBytes`, not the several megabytes the kernel's autotuning would grow it
/// to for a peer that does not read.
final class ResponseDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    static let sendBufferBytes: SocketOptionValue = 128 << 10

    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let loop = context.eventLoop.assumeIsolated()
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational && deadline == nil:
            deadline = loop.scheduleTask(in: timeout) { context.close(promise: nil) }
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { _ in
                self.deadline?.cancel()
                self.deadline = nil
            }
            context.write(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(.socketOption(.so_sndbuf), value: Self.sendBufferBytes)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}
