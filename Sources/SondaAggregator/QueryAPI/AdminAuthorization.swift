import Hummingbird
import NIOCore

/// Endpoints that change state (silences) need an admin token. With no `admin_tokens` configured
/// they are taken only from loopback, under the read endpoints' rules; from anywhere else they are
/// refused. A read token is known but not allowed (403); a missing or unknown token is 401.
struct AdminAuthorization<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard tokens.hasAdminTokens else {
            guard Self.isLoopback(context.remoteAddress) else {
                throw AggregatorError(
                    .forbidden,
                    "no admin_tokens are configured, so changes are taken only from the aggregator's own host (loopback)"
                )
            }
            try ReadAuthorization<Context>.check(request, tokens: tokens)
            return try await next(request, context)
        }
        guard let token = AccessTokens.bearer(request) else {
            throw AggregatorError(
                .unauthorized, "this endpoint needs Authorization: Bearer TOKEN with an admin token")
        }
        switch tokens.role(of: token) {
        case .admin: return try await next(request, context)
        case .read:
            throw AggregatorError(.forbidden, "a read token cannot change anything: use an admin token")
        case nil:
            throw AggregatorError(.unauthorized, "the bearer token is not one of the admin tokens")
        }
    }

    /// 127.0.0.0/8, ::1 and IPv4-mapped 127.x; an unknown peer is not loopback.
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
