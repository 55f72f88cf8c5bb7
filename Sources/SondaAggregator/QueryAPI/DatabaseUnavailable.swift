import Hummingbird

/// Answers 503 with a JSON error when the database fails a request (a PostgreSQL server that is
/// down, a full disk), instead of a bare 500: agents keep the batch spooled and send it again,
/// and `/health` says why.
struct DatabaseUnavailable<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error where !(error is any HTTPResponseError) {
            guard let reason = StoreOpening.unavailability(error) else { throw error }
            context.logger.error("database unavailable: \(reason)")
            throw AggregatorError(.databaseUnavailable, "the database failed: \(reason)")
        }
    }
}
