import Foundation
import SondaCore
import Testing

@testable import SondaAggregator

/// The alert evaluator's memory of the fleet holds what is current: series, TLS and certificate
/// observations nobody has reported for a day are forgotten, whatever came and went before.
@Suite struct FleetObservationsTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(check: String, agent: String = "sp-clinic-01", at: Date, ok: Bool = true) -> ResultEvent {
        ResultEvent(
            check: check, endpointClass: "appointment_booking", agent: agent, region: "sao_paulo",
            profile: "desktop_brazil", startedAt: at, ok: ok, errorCode: ok ? nil : "tls_untrusted",
            tlsVersion: "TLSv1.3", certificateExpiry: at.addingTimeInterval(90 * 86_400))
    }

    @Test func seriesNotSeenForADayAreForgottenAfterAHundredThousandCameAndWent() {
        var engine = AlertEngine(options: .init())
        // 100 000 distinct series (checks renamed, agents replaced, profiles changed over months).
        for index in 0..<100_000 {
            engine.add(
                Self.event(check: "check-\(index)", agent: "agent-\(index % 50)", at: Self.start, ok: index % 1000 != 0)
            )
        }
        _ = engine.evaluate(at: Self.start.addingTimeInterval(60))
        #expect(engine.observations.series.count == 100_000, "all current: kept")
        #expect(engine.observations.tls.count == 100, "the TLS failures")
        #expect(engine.observations.expiries.count == 100_000)

        // A day and a half later only one check still reports.
        let later = Self.start.addingTimeInterval(1.5 * 86_400)
        engine.add(Self.event(check: "still-here", at: later))
        _ = engine.evaluate(at: later)
        let o = engine.observations
        #expect(o.series.count == 1 && o.series.keys.first?.check == "still-here")
        #expect(o.seriesByCheck.count == 1 && o.classes.count == 1)
        #expect(o.tls.isEmpty && o.expiries.count == 1)
    }

    @Test func aSeriesWithALongIntervalIsKeptForThreeOfThem() {
        var engine = AlertEngine(options: .init())
        // A check that runs every 12 hours.
        engine.add(Self.event(check: "nightly", at: Self.start))
        engine.add(Self.event(check: "nightly", at: Self.start.addingTimeInterval(43_200)))
        _ = engine.evaluate(at: Self.start.addingTimeInterval(43_200 + 30 * 3600))
        #expect(engine.observations.series.count == 1, "30 h after its last result, within three intervals")
        _ = engine.evaluate(at: Self.start.addingTimeInterval(43_200 + 37 * 3600))
        #expect(engine.observations.series.isEmpty)
    }
}
