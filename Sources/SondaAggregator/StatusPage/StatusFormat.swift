import Foundation
import SondaCore

/// How the status page writes numbers, times and durations.
enum StatusFormat {
    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value >= 1000 { return String(format: "%.2f s", value / 1000) }
        if value >= 100 { return String(format: "%.0f ms", value) }
        if value >= 10 { return String(format: "%.1f ms", value) }
        return String(format: "%.2f ms", value)
    }

    /// "42 s ago", "5 min ago", "3 h ago", "2 d ago".
    static func ago(seconds: Double) -> String {
        duration(seconds: seconds) + " ago"
    }

    static func duration(seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 90 { return "\(Int(s.rounded())) s" }
        if s < 90 * 60 { return "\(Int((s / 60).rounded())) min" }
        if s < 36 * 3600 { return "\(Int((s / 3600).rounded())) h" }
        return "\(Int((s / 86_400).rounded())) d"
    }

    /// Availability as a percentage with enough digits to tell 99.9 from 99.95.
    static func percent(_ fraction: Double?) -> String {
        guard let fraction else { return "–" }
        let p = fraction * 100
        if p >= 100 { return "100 %" }
        if p >= 99 { return String(format: "%.2f %%", (p * 100).rounded(.down) / 100) }
        return String(format: "%.1f %%", p)
    }

    static func count(_ n: Int) -> String {
        if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 10_000 { return String(format: "%.0fk", Double(n) / 1e3) }
        return String(n)
    }

    /// "14:00" in UTC.
    static func clock(_ date: Date) -> String {
        let t = Int64(date.timeIntervalSince1970).floorDivided(by: 60)
        let minute = t % 60
        let hour = t.floorDivided(by: 60) % 24
        return String(format: "%02d:%02d", hour, minute)
    }

    /// "11-23" (month-day) in UTC.
    static func day(_ date: Date) -> String {
        let timestamp = Timestamp.format(date)
        return String(timestamp.dropFirst(5).prefix(5))
    }

    /// "2026-11-23 14:05:09 UTC".
    static func timestamp(_ date: Date) -> String {
        let text = Timestamp.format(date)
        return text.prefix(10) + " " + text.dropFirst(11).prefix(8) + " UTC"
    }
}
