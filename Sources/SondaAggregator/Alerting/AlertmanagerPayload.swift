import Foundation
import SondaCore

/// The body of Alertmanager's `POST /api/v2/alerts`: a JSON array of alerts with labels,
/// annotations, RFC 3339 startsAt/endsAt and generatorURL.
///
/// Alertmanager resolves an alert by itself once its endsAt passes, so, as Prometheus does, a
/// firing alert's endsAt is `at` + 4 × the resend interval and every firing alert is sent again
/// at least once per resend interval; a resolved alert's endsAt is the time it resolved.
enum AlertmanagerPayload {
    struct PostableAlert: Encodable {
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: Date
        var endsAt: Date
        var generatorURL: String?
    }

    static func alerts(_ alerts: [AlertNotification], at: Date, resend: Duration, externalURL: String?)
        -> [PostableAlert]
    {
        let lease = resend * 4
        return alerts.map { alert in
            PostableAlert(
                labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt,
                endsAt: alert.status == .resolved
                    ? (alert.endsAt ?? at) : at.addingTimeInterval(lease.milliseconds / 1000),
                generatorURL: StatusPageLink.url(for: alert, externalURL: externalURL))
        }
    }

    static func body(_ alerts: [AlertNotification], at: Date, resend: Duration, externalURL: String?) throws -> Data {
        try ResultJSON.encoder().encode(Self.alerts(alerts, at: at, resend: resend, externalURL: externalURL))
    }
}
