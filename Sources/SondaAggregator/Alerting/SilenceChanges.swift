import Foundation
import Hummingbird

/// `POST /v1/silences` (create) and `DELETE /v1/silences/{id}` (expire now), on the admin group.
struct SilenceChanges: Sendable {
    let store: any AggregatorStore
    let now: @Sendable () -> Date

    func register<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.post("/v1/silences") { request, _ in
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: 64 * 1024)
            } catch {
                throw AggregatorError.tooLarge("a silence body is at most 64 KiB")
            }
            let silence = try SilenceRequest.parse(Data(buffer: buffer), now: now())
            try await store.insert(silence)
            var response = try json(SilenceEntry(silence))
            response.status = .created
            return response
        }
        group.delete("/v1/silences/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let silence = try await store.expireSilence(id: id, at: now()) else {
                throw AggregatorError(
                    .notFound, "no active or scheduled silence has id '\(id)' (silence list shows them)")
            }
            return try json(SilenceEntry(silence))
        }
    }
}
