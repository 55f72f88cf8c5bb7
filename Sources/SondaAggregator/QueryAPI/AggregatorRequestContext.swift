import Hummingbird
import NIOCore

/// The aggregator's request context: Hummingbird's own, and the peer's address, since changes
/// are taken from loopback only when no admin tokens are configured.
public struct AggregatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
