import Hummingbird

/// Read endpoints need `Authorization: Bearer <token>` with one of the configured tokens;
/// with no tokens configured they are public.
struct ReadAuthorization<Context: RequestContext>: RouterMiddleware {
    let tokens: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard !tokens.isEmpty else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw AggregatorError(.unauthorized, "unauthorized", "this endpoint needs Authorization: Bearer TOKEN")
        }
        guard header.hasPrefix("Bearer "), tokens.contains(String(header.dropFirst(7))) else {
            throw AggregatorError(.unauthorized, "unauthorized", "the bearer token is not one of the read tokens")
        }
        return try await next(request, context)
    }
}
