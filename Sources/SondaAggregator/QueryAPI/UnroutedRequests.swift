import HTTPTypes
import Hummingbird

/// What a request that reaches no handler gets: a 405 with `Allow` when its path is one of the
/// aggregator's with another method (RFC 9110 §15.5.6), a 404 otherwise, both with the usual JSON
/// error body. Hummingbird's router answers both with an empty 404; its "not found" responder is
/// recognised by the endpoint path it records, so a 404 a handler throws (an unknown silence)
/// passes through unchanged.
struct UnroutedRequests<Context: RequestContext>: RouterMiddleware {
    /// Every route, as registered: path segments (":name" matches any one segment) and methods.
    static var routes: [(path: String, methods: [HTTPRequest.Method])] {
        [
            ("/health", [.get]), ("/metrics", [.get]), ("/", [.get]), ("/checks/:name", [.get]),
            ("/v1/results", [.post]), ("/v1/budgets", [.get]), ("/v1/uptime", [.get]), ("/v1/agents", [.get]),
            ("/v1/checks/:name/results", [.get]), ("/v1/alerts", [.get]), ("/v1/silences", [.get, .post]),
            ("/v1/silences/:id", [.delete]),
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            let path = request.uri.path
            guard let route = Self.routes.first(where: { Self.matches(path, $0.path) }) else {
                throw AggregatorError(.notFound, "no endpoint \(path)")
            }
            let allowed = route.methods.map(\.rawValue).joined(separator: ", ")
            var response = try AggregatorError(
                .methodNotAllowed, "\(path) answers \(allowed), not \(request.method.rawValue)"
            ).response(from: request, context: context)
            response.headers[.allow] = allowed
            return response
        }
    }

    static func matches(_ path: String, _ template: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let wanted = template.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == wanted.count
            && zip(parts, wanted).allSatisfy { $1.hasPrefix(":") ? !$0.isEmpty : $0 == $1 }
    }
}
