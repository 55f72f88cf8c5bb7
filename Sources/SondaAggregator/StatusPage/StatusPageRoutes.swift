import Foundation
import Hummingbird

/// `GET /` and `GET /checks/{name}`. With read tokens configured they need one, as a bearer header
/// or, because a browser cannot send a header from the address bar, as `?token=`; a token given
/// in the query is carried into the page's links to the other status pages and nowhere else.
extension StatusPage {
    func register<Context: RequestContext>(on router: Router<Context>, tokens: AccessTokens) {
        router.get("/") { request, _ in
            let q = QueryParameters(request: request)
            return try await answer(request, tokens: tokens) { token in
                try await fleet(window: q.string("window") ?? "1h", token: token)
            }
        }
        router.get("/checks/:name") { request, context in
            let raw = try context.parameters.require("name")
            let name = raw.removingPercentEncoding ?? raw
            let q = QueryParameters(request: request)
            return try await answer(request, tokens: tokens) { token in
                try await check(
                    name: name, window: q.string("window") ?? "24h", profile: q.string("profile"), token: token)
            }
        }
    }

    private func answer(
        _ request: Request, tokens: AccessTokens, render: (String?) async throws -> Rendered
    ) async throws -> Response {
        var linkToken: String?
        if tokens.readNeedsToken {
            let header = request.headers[.authorization]
            let query = QueryParameters(request: request).string("token")
            if let bearer = AccessTokens.bearer(request), tokens.role(of: bearer) != nil {
                linkToken = nil
            } else if let query, tokens.role(of: query) != nil {
                linkToken = query
            } else {
                let text: HTML =
                    query == nil && header == nil
                    ? "This status page needs a read token: open it as <code>/?token=TOKEN</code> or send <code>Authorization: Bearer TOKEN</code>."
                    : "That token is not one of the aggregator's read tokens."
                return Self.html(
                    Rendered(
                        status: 401,
                        html: StatusPageLayout.message(title: "Token needed", text: text, generatedAt: now(), back: nil)
                    ))
            }
        }
        return Self.html(try await render(linkToken))
    }

    static func html(_ rendered: Rendered) -> Response {
        Response(
            status: .init(code: rendered.status),
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: rendered.html)))
    }
}
