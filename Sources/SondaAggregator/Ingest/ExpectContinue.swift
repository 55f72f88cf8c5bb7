import HTTPTypes
import NIOCore
import NIOHTTPTypes
import SondaConfig

/// Answers `Expect: 100-continue`, which Hummingbird's router cannot: `100 Continue` goes out as
/// the head arrives when `admits` it, and never otherwise, so a client the handler will refuse
/// gets that final answer instead of an invitation to upload its body.
final class ExpectContinue: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let admits: @Sendable (HTTPRequest) -> Bool

    init(admits: @escaping @Sendable (HTTPRequest) -> Bool) {
        self.admits = admits
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), head.headerFields[.expect]?.lowercased() == "100-continue",
            admits(head)
        {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }

    /// What the aggregator admits: any request but `POST /v1/results`, which needs a well-formed
    /// signature header naming a configured agent and no declared length over the limit, the same
    /// checks `IngestEndpoint` makes before reading a body.
    static func aggregatorAdmits(_ config: AggregatorConfig) -> @Sendable (HTTPRequest) -> Bool {
        let agents = IngestEndpoint.agents(config)
        let limit = config.maxBodyBytes
        return { head in
            guard head.method == .post, head.path?.split(separator: "?").first == "/v1/results" else { return true }
            if let length = head.headerFields[.contentLength].flatMap(Int.init), length > limit { return false }
            let header = head.headerFields[HTTPField.Name(SignatureHeader.name)!]
            return (try? SignatureHeader.admit(header, agents: agents)) != nil
        }
    }
}
