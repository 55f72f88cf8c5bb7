import Foundation

extension ReportTables {
    /// `sonda-aggregator alerts`: one line per alert, most urgent first; severity coloured.
    public static func alerts(_ list: AlertList, colour: Bool) -> String {
        let order = ["critical", "high", "medium", "low"]
        let sorted = list.alerts.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let (rx, ry) = (x.state == "resolved" ? 1 : 0, y.state == "resolved" ? 1 : 0)
            let (sx, sy) = (order.firstIndex(of: x.severity) ?? 4, order.firstIndex(of: y.severity) ?? 4)
            return (rx, sx, a.offset) < (ry, sy, b.offset)
        }.map(\.element)
        let rows = sorted.map { a -> [String] in
            let scope = ["check", "region", "regions", "profile", "agent", "phase"].compactMap { a.labels[$0] }
            return [
                a.severity, a.state, a.labels["alertname"] ?? "-", scope.isEmpty ? "-" : scope.joined(separator: " "),
                String(a.startsAt.prefix(19)), a.endsAt.map { String($0.prefix(19)) } ?? "-", a.summary,
            ]
        }
        let delivery = receivers(list.receivers ?? [])
        guard !rows.isEmpty else { return "no alerts\n" + delivery }
        let header = ["severity", "state", "alert", "where", "since", "until", "summary"]
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String], paint: Bool) -> String {
            cells.enumerated().map { i, cell in
                let padded = i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                return paint && i == 0 ? severityPainted(padded, cell) : padded
            }.joined(separator: "  ")
        }
        return ([line(header, paint: false)] + rows.map { line($0, paint: colour) }).joined(separator: "\n") + "\n"
            + delivery
    }

    /// Delivery per receiver under the alerts, so a pager that stopped answering is seen.
    static func receivers(_ list: [ReceiverEntry]) -> String {
        guard !list.isEmpty else { return "" }
        let rows = list.map { r -> [String] in
            [
                r.receiver, r.kind, String(r.sent), String(r.failed), String(r.retries), String(r.queued),
                r.lastError.map { "\($0) (\(r.lastErrorAt.map { String($0.prefix(19)) } ?? "?"))" } ?? "-",
            ]
        }
        return "\n" + table(
            ["receiver", "kind", "sent", "failed", "retries", "queued", "last error"], rows, rightAligned: [2, 3, 4, 5],
            colour: false)
    }

    public static func silences(_ list: SilenceList) -> String {
        guard !list.silences.isEmpty else { return "no silences\n" }
        let rows = list.silences.map { s -> [String] in
            [
                String(s.id.prefix(8)),
                s.matchers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: ","),
                String(s.startsAt.prefix(19)), String(s.endsAt.prefix(19)), s.comment.isEmpty ? "-" : s.comment,
            ]
        }
        return table(["id", "matchers", "from", "until", "comment"], rows, rightAligned: [], colour: false)
    }

    static func severityPainted(_ padded: String, _ severity: String) -> String {
        let code =
            switch severity {
            case "critical": "1;31"
            case "high": "31"
            case "medium": "33"
            default: "2"
            }
        return "\u{1B}[\(code)m\(padded)\u{1B}[0m"
    }
}
