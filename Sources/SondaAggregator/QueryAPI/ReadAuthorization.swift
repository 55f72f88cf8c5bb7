import Hummingbird

/// Read endpoints need `Authorization: Bearer <token>` with a read or an admin token; with no read
/// tokens configured they are public.
struct ReadAuthorization<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try Self.check(request, tokens: tokens)
        return try await next(request, context)
    }

    /// Throws 401 unless the read endpoints are public or the request carries a read or admin token.
    static func check(_ request: Request, tokens: AccessTokens) throws {
        guard tokens.readNeedsToken else { return }
        guard request.headers[.authorization] != nil else {
            throw AggregatorError(.unauthorized, "this endpoint needs Authorization: Bearer TOKEN")
        }
        guard let token = AccessTokens.bearer(request), tokens.role(of: token) != nil else {
            throw AggregatorError(.unauthorized, "the bearer token is not one of the read tokens")
        }
    }
}
