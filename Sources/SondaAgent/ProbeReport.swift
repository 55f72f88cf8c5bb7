import Foundation
import SondaCore

/// The human view of `sonda-agent probe`: an httpstat-like waterfall for one probe, and a
/// p50/p95/max table for several.
public struct ProbeReport {
    public var style: TerminalStyle
    public var barWidth = 40

    public init(style: TerminalStyle) { self.style = style }

    static let phases: [PhaseTimings.Phase] = [.dns, .connect, .proxy, .tls, .send, .wait, .receive]

    /// One probe: headline, TLS summary, the phase waterfall and the verdict.
    public func waterfall(_ result: ProbeResult) -> String {
        var lines = [style.bold(result.url)]
        if let http = result.http {
            var parts = ["HTTP/\(http.version) \(http.status)", "\(http.bodyBytes) B"]
            if let ip = http.remoteIP { parts.append(ip) }
            if http.redirects > 0 {
                parts.append("\(http.redirects) redirect\(http.redirects == 1 ? "" : "s") (\(ms(http.redirectMilliseconds)))")
            }
            lines.append("  " + parts.joined(separator: " · "))
        } else if let ip = result.remoteIP {
            lines.append("  \(ip)")
        }
        if let proxy = result.proxy {
            let address = proxy.ip.map { " (\($0))" } ?? ""
            lines.append("  via proxy \(proxy.url)\(address)")
        }
        if let tls = result.tls { lines.append("  " + tlsSummary(tls)) }
        if let client = result.tls?.clientCert { lines.append("  " + clientSummary(client)) }
        lines.append("")
        let total = max(result.phases.total, 0.001)
        var offset = 0.0
        for phase in Self.phases {
            guard let value = result.phases[phase] else { continue }
            let start = min(Int((offset / total * Double(barWidth)).rounded()), barWidth - 1)
            let end = Int(((offset + value) / total * Double(barWidth)).rounded())
            let bar = String(repeating: " ", count: start) + String(repeating: "█", count: max(end - start, 1))
            lines.append("  \(phase.rawValue.padding(8))\(ms(value).leftPadded(to: 11, with: " "))  \(style.dim("│"))\(bar)")
            offset += value
        }
        lines.append("  \("total".padding(8))\(ms(result.phases.total).leftPadded(to: 11, with: " "))")
        lines.append("")
        lines.append("  " + verdict(result))
        return lines.joined(separator: "\n")
    }

    /// Several probes of one target: p50/p95/max per phase over the successful ones, and the failures.
    public func summary(_ results: [ProbeResult], budget: LatencyBudget?) -> String {
        let summary = PhaseSummary(results)
        var lines = [style.bold(results.first?.url ?? "")]
        var counts = "  \(results.count) probes · \(summary.count) ok"
        if summary.failed > 0 { counts += " · " + style.red("\(summary.failed) failed") }
        lines.append(counts)
        if let tls = results.last(where: { $0.tls != nil })?.tls { lines.append("  " + tlsSummary(tls)) }
        lines.append("")
        lines.append("  " + "phase".padding(8) + "p50".leftPadded(to: 11, with: " ") + "p95".leftPadded(to: 11, with: " ") + "max".leftPadded(to: 11, with: " "))
        for phase in Self.phases + [.total] {
            guard let stats = summary.stats[phase] else { continue }
            lines.append(
                "  " + phase.rawValue.padding(8) + ms(stats.p50).leftPadded(to: 11, with: " ") + ms(stats.p95).leftPadded(to: 11, with: " ")
                    + ms(stats.max).leftPadded(to: 11, with: " "))
        }
        let failures = Dictionary(grouping: results.compactMap(\.error), by: \.code)
        if !failures.isEmpty {
            lines.append("")
            for (code, errors) in failures.sorted(by: { $0.value.count > $1.value.count }) {
                lines.append("  " + style.red("\(errors.count)× \(code.rawValue)") + ": \(errors[0].message)")
            }
        }
        if let budget {
            lines.append("")
            let p95 = summary.stats[budget.phase]?.p95
            let text = "budget: p95 \(budget.phase.rawValue) \(p95.map(ms) ?? "n/a") against \(ms(budget.limitMilliseconds))"
            lines.append("  " + (budget.isExceeded(by: summary) ? style.yellow(text + " — over budget") : style.green(text + " — within")))
        }
        return lines.joined(separator: "\n")
    }

    private func tlsSummary(_ tls: TLSReport) -> String {
        var parts = [tls.version]
        if let cipher = tls.cipher { parts.append(cipher) }
        parts.append(tls.verified ? style.green("verified") : style.red("not verified"))
        if let leaf = tls.leaf { parts.append(leaf.subject) }
        if let expiry = tls.earliestExpiry, let days = tls.daysToExpiry {
            let text = "expires \(Timestamp.format(expiry).prefix(10)) (\(days) days)"
            parts.append(days < 21 ? style.yellow(text) : text)
        }
        return parts.joined(separator: " · ")
    }

    /// `client certificate CN=sonda-agent · sent · expires 2027-11-23 (365.0 days)`.
    private func clientSummary(_ client: ClientCertificateReport) -> String {
        let expiry = "expires \(Timestamp.format(client.certificate.notAfter).prefix(10)) (\(client.daysToExpiry) days)"
        return [
            "client certificate \(client.certificate.subject)",
            client.sent ? "sent" : "not asked for",
            client.daysToExpiry < 0 ? style.red(expiry) : client.daysToExpiry < 21 ? style.yellow(expiry) : expiry,
        ].joined(separator: " · ")
    }

    private func verdict(_ result: ProbeResult) -> String {
        if let error = result.error { return style.red("FAILED \(error.code.rawValue)") + ": \(error.message)" }
        if let budget = result.budget, !budget.ok {
            return style.yellow("OVER BUDGET") + ": \(budget.phase.rawValue) over \(ms(budget.limitMilliseconds))"
        }
        return style.green("OK")
    }

    func ms(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2f s", value / 1000) : String(format: "%.2f ms", value)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

}
