import Foundation
import Hummingbird
import SondaConfig
import SondaCore

/// `GET /v1/alerts` and `GET /v1/silences`, on the read-token group.
struct AlertsEndpoint: Sendable {
    let store: any AggregatorStore
    let deliveries: DeliveryCounters
    let now: @Sendable () -> Date

    static let states = ["firing", "silenced", "resolved", "pending"]

    func register<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/v1/alerts") { request, _ in try json(try await alerts(QueryParameters(request: request))) }
        group.get("/v1/silences") { request, _ in
            let page = try ListPage<SilencePosition>(QueryParameters(request: request))
            let at = now()
            let read = try await store.silences(notEndedAt: at, after: page.after, limit: page.readLimit)
            let (shown, next) = page.split(read, position: SilencePosition.init(of:))
            return try json(SilenceList(silences: shown.map(SilenceEntry.init), nextCursor: next))
        }
    }

    func alerts(_ q: QueryParameters) async throws -> AlertList {
        let state = q.string("state")
        if let state, !Self.states.contains(state) {
            throw AggregatorError.badParameter(
                "state", "expected one of \(Self.states.joined(separator: ", ")), got '\(state)'")
        }
        let history = try q.lookBack("since", default: "24h", maximum: .seconds(Int64(AlertHistory.kept)))
        let page = try ListPage<AlertPosition>(q)
        let at = now()
        let resolvedSince = at.addingTimeInterval(-history.intervalSeconds)
        let selection =
            switch state {
            case "firing", "silenced": AlertSelection(live: [.firing], resolvedSince: nil)
            case "pending": AlertSelection(live: [.pending], resolvedSince: nil)
            case "resolved": AlertSelection(live: [], resolvedSince: resolvedSince)
            default: AlertSelection(live: [.firing], resolvedSince: resolvedSince)
            }
        let read = try await store.alerts(selection, after: page.after, limit: page.readLimit)
        let (alerts, next) = page.split(read, position: AlertPosition.init(of:))
        let silences = try await store.silences(notEndedAt: at).filter { $0.isActive(at: at) }
        let entries = alerts.map { a -> AlertEntry in
            var shown = a.state.rawValue
            if a.state == .firing && silences.contains(where: { $0.matches(a.labels) }) { shown = "silenced" }
            return AlertEntry(
                fingerprint: a.fingerprint, labels: a.labels, state: shown, severity: a.severity.rawValue,
                startsAt: Timestamp.format(a.startsAt ?? a.activeSince), endsAt: a.endsAt.map(Timestamp.format),
                summary: a.summary, description: a.description, lastSent: a.lastSent.map(Timestamp.format))
        }
        // firing and silenced are one state in the store: a page of either may show fewer than `limit`.
        return AlertList(
            alerts: state.map { s in entries.filter { $0.state == s } } ?? entries,
            receivers: deliveries.snapshot.map(ReceiverEntry.init), nextCursor: next)
    }
}

/// `POST /v1/silences`: `{"matchers":{"check":"booking"},"duration":"2h","comment":"…"}`,
/// optionally `"starts_at"` (RFC 3339) for a silence scheduled ahead.
enum SilenceRequest {
    static let longest: Duration = .seconds(30 * 86_400)

    static func parse(_ data: Data, now: Date) throws -> Silence {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AggregatorError.malformed(
                "a silence is a JSON object like {\"matchers\":{\"check\":\"booking\"},\"duration\":\"2h\"}")
        }
        let known: Set = ["matchers", "duration", "comment", "starts_at"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw bad("unknown field '\(unknown)'\(Suggestion.didYouMean(unknown, in: known.sorted()))")
        }
        guard let raw = object["matchers"] as? [String: Any], !raw.isEmpty else {
            throw bad("'matchers' must be a non-empty object of label names to values, like {\"check\":\"booking\"}")
        }
        var matchers: [String: String] = [:]
        for (label, value) in raw {
            guard let text = value as? String, !text.isEmpty, !label.isEmpty else {
                throw bad("matcher '\(label)' must have a non-empty string value")
            }
            matchers[label] = text
        }
        guard let text = object["duration"] as? String else { throw bad("'duration' is required, like \"2h\"") }
        guard let duration = try? DurationParsing.parse(text), duration > .zero, duration <= longest else {
            throw bad("'duration' must be a duration from 1s to 30d, like \"2h\", got '\(text)'")
        }
        var start = now
        if let written = object["starts_at"] {
            guard let text = written as? String, let date = Timestamp.parse(text) else {
                throw bad("'starts_at' must be a timestamp like 2026-11-23T10:00:00Z")
            }
            start = max(date, now)
        }
        guard object["comment"] == nil || object["comment"] is String else { throw bad("'comment' must be a string") }
        return Silence(
            matchers: matchers, startsAt: start, endsAt: start.addingTimeInterval(duration.intervalSeconds),
            comment: object["comment"] as? String ?? "", createdAt: now)
    }

    static func bad(_ message: String) -> AggregatorError { .init(.badSilence, message) }
}

extension QueryParameters {
    /// A duration back from now (`since=24h`), more than zero and at most `maximum`.
    func lookBack(_ name: String, default text: String, maximum: Duration) throws -> Duration {
        let written = string(name) ?? text
        guard let value = try? DurationParsing.parse(written), value > .zero, value <= maximum else {
            throw AggregatorError.badParameter(
                name,
                "expected a duration from 1s to \(DurationParsing.format(maximum)), like 1h or 7d, got '\(written)'")
        }
        return value
    }
}
