// Replays a generated 30-day history of 100 checks × 3 regions (one result per check per region
// per minute) through the alert engine on its own clock, with injected incidents, and scores the
// SondaDown pages against the injected ground truth.
//
// Incidents: full outages (3 regions) and quorum outages (2 of 3) must page; flapping outages
// (fail, fail, pass, … in 2+ regions) must page once; single-region outages, flapping blips (never
// two failures in a row), lossy clinic Wi-Fi (one region failing 10 % of its results for hours)
// and agent loss must not page (agent loss must raise SondaAgentSilent).
// Background noise: each result fails with probability 0.0005.
import Foundation
import SondaAggregator
import SondaConfig
import SondaCore

enum Kind: String, CaseIterable { case full, quorum, flapping, single, blips, lossy }

struct Incident {
    var check: Int
    var kind: Kind
    var regions: Set<Int>
    var start: Int  // seconds since the epoch of the replay
    var end: Int
    var pages: Bool { kind == .full || kind == .quorum || kind == .flapping }
}

struct AgentLoss {
    var region: Int
    var start: Int
    var end: Int
}

let arguments = CommandLine.arguments
let days = arguments.count > 1 ? Int(arguments[1]) ?? 30 : 30
let checks = 100
let regions = [("sp-clinic-01", "sao_paulo"), ("rj-clinic-01", "rio"), ("intl-01", "international")]
let span = days * 86_400
var rng = SplitMix64(seed: 20_261_123)
let epoch = Date(timeIntervalSince1970: 1_800_000_000)

// Agent loss first; outages are kept clear of it (±15 min) so the ground truth stays simple.
var losses: [AgentLoss] = []
for _ in 0..<(days * 2 / 3) {
    let start = Int.random(in: 3600..<(span - 3 * 3600), using: &rng)
    losses.append(
        AgentLoss(
            region: Int.random(in: 0..<3, using: &rng), start: start,
            end: start + Int.random(in: 600...7200, using: &rng)))
}
@MainActor func nearLoss(_ start: Int, _ end: Int) -> Bool {
    losses.contains { start < $0.end + 900 && end > $0.start - 900 }
}

var incidents: [[Incident]] = Array(repeating: [], count: checks)
let perCheck: [(Kind, Int)] = [(.full, 1), (.quorum, 2), (.flapping, 1), (.single, 3), (.blips, 2), (.lossy, 2)]
for check in 0..<checks {
    for (kind, count) in perCheck {
        var placed = 0
        while placed < count * days / 30 + (days < 30 && placed == 0 ? 1 : 0) {
            let length =
                switch kind {
                case .full, .quorum: Int.random(in: 180...3600, using: &rng)
                case .flapping: Int.random(in: 1200...2400, using: &rng)
                case .single: Int.random(in: 300...7200, using: &rng)
                case .blips: Int.random(in: 1800...5400, using: &rng)
                case .lossy: Int.random(in: 3600...21_600, using: &rng)
                }
            let start = Int.random(in: 1800..<(span - length - 1800), using: &rng)
            // Incidents of one check do not touch (30 min apart), so each page has one cause.
            guard !nearLoss(start, start + length),
                !incidents[check].contains(where: { start < $0.end + 1800 && start + length > $0.start - 1800 })
            else { continue }
            var chosen: Set<Int>
            switch kind {
            case .full: chosen = [0, 1, 2]
            case .quorum, .flapping:
                chosen = [0, 1, 2]
                chosen.remove(Int.random(in: 0..<3, using: &rng))
            case .single, .lossy: chosen = [Int.random(in: 0..<3, using: &rng)]
            case .blips: chosen = [0, 1, 2]
            }
            incidents[check].append(
                Incident(check: check, kind: kind, regions: chosen, start: start, end: start + length))
            placed += 1
        }
    }
    incidents[check].sort { $0.start < $1.start }
}

// Each check probes at its own second of the minute.
let offsets = (0..<checks).map { ($0 * 37) % 60 }
let checkNames = (0..<checks).map { String(format: "check-%03d", $0) }

var alerting = AlertingConfig()
alerting.evaluateEvery = .seconds(15)
var engine = AlertEngine(options: .init(alerting: alerting))
for (agent, region) in regions { engine.expect(agent: agent, region: region, since: epoch) }

var fired: [(check: String, at: Int)] = []
var silentFired: [(agent: String, at: Int)] = []
var pagesTotal = 0
var results = 0
var cursor = Array(repeating: 0, count: checks)
let clock = ContinuousClock()
let began = clock.now

@MainActor func failing(_ incident: Incident, region: Int, at t: Int) -> Bool {
    guard incident.regions.contains(region) else { return false }
    let minute = (t - incident.start) / 60
    switch incident.kind {
    case .full, .quorum, .single: return true
    case .flapping: return minute % 3 != 2
    case .blips: return minute % 2 == 0 && (minute / 2 + region) % 3 == 0
    case .lossy: return Double.random(in: 0..<1, using: &rng) < 0.1
    }
}

for minuteStart in stride(from: 0, to: span, by: 60) {
    let lost = Set(losses.filter { minuteStart >= $0.start && minuteStart < $0.end }.map(\.region))
    for r in 0..<3 where !lost.contains(r) {
        engine.add(
            HeartbeatEvent(agent: regions[r].0, region: regions[r].1, at: epoch.addingTimeInterval(Double(minuteStart)))
        )
    }
    for quarter in 0..<4 {
        for check in 0..<checks where offsets[check] / 15 == quarter {
            let t = minuteStart + offsets[check]
            while cursor[check] < incidents[check].count, incidents[check][cursor[check]].end <= t {
                cursor[check] += 1
            }
            let incident =
                cursor[check] < incidents[check].count && incidents[check][cursor[check]].start <= t
                ? incidents[check][cursor[check]] : nil
            for r in 0..<3 where !lost.contains(r) {
                let fails =
                    incident.map { failing($0, region: r, at: t) } ?? false
                    || Double.random(in: 0..<1, using: &rng) < 0.0005
                engine.add(
                    ResultEvent(
                        check: checkNames[check], endpointClass: "appointment_booking", agent: regions[r].0,
                        region: regions[r].1, profile: "desktop_brazil", startedAt: epoch.addingTimeInterval(Double(t)),
                        ok: !fails, errorCode: fails ? "timeout" : nil))
                results += 1
            }
        }
        let at = minuteStart + (quarter + 1) * 15
        let evaluation = engine.evaluate(at: epoch.addingTimeInterval(Double(at)))
        for change in evaluation.changes where change.transition == .fired {
            let labels = change.alert.labels
            if labels["severity"] == "critical" { pagesTotal += 1 }
            switch labels["alertname"] {
            case "SondaDown": fired.append((labels["check"]!, at))
            case "SondaAgentSilent": silentFired.append((labels["agent"]!, at))
            default: break
            }
        }
    }
}
let elapsed = clock.now - began
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

// Score the pages.
let all = incidents.flatMap { $0 }
let paging = all.filter(\.pages)
var latencies: [Double] = []
var duplicatePages = 0
var matched = Set<Int>()
for (index, incident) in paging.enumerated() {
    let pages = fired.filter {
        $0.check == checkNames[incident.check] && $0.at >= incident.start && $0.at <= incident.end + 600
    }
    if let first = pages.first {
        latencies.append(Double(first.at - incident.start))
        matched.insert(index)
    }
    duplicatePages += max(0, pages.count - 1)
}
let falsePages = fired.filter { page in
    !paging.contains { checkNames[$0.check] == page.check && page.at >= $0.start && page.at <= $0.end + 600 }
}
let quiet = all.filter { !$0.pages }
let quietPaged = quiet.filter { q in
    fired.contains { $0.check == checkNames[q.check] && $0.at >= q.start && $0.at <= q.end + 600 }
}
let lossesDetected = losses.filter { loss in
    loss.end - loss.start > 3 * 60 + 60
        && silentFired.contains { $0.agent == regions[loss.region].0 && $0.at >= loss.start && $0.at <= loss.end }
}
let detectableLosses = losses.filter { $0.end - $0.start > 3 * 60 + 60 }
latencies.sort()
@MainActor func percentile(_ p: Double) -> Double {
    latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
}
let bound = 60.0 * Double(alerting.downFor) + 15  // interval × for + evaluation period
let tpr = Double(matched.count) / Double(max(paging.count, 1))
let fpr = Double(falsePages.count) / Double(max(fired.count, 1))

print("alert replay: \(days) days, \(checks) checks × 3 regions, \(results) results, evaluation every 15 s")
print(
    "  incidents: \(Kind.allCases.map { k in "\(k.rawValue) \(all.filter { $0.kind == k }.count)" }.joined(separator: ", ")), agent loss \(losses.count)"
)
print(
    String(
        format: "  detection latency p50 %.0f s, p95 %.0f s, max %.0f s (bound: interval × for + period = %.0f s)",
        percentile(0.5), percentile(0.95), latencies.last ?? .nan, bound))
print(
    String(format: "  true-positive rate %.2f %% (%d of %d paging incidents)", tpr * 100, matched.count, paging.count))
print(
    String(
        format: "  false-positive rate %.2f %% (%d of %d SondaDown pages match no paging incident)", fpr * 100,
        falsePages.count, fired.count))
print(
    "  single-region outages, blips and lossy Wi-Fi that paged: \(quietPaged.count) of \(quiet.count); repeat pages within one incident: \(duplicatePages)"
)
print(
    "  agent loss raised SondaAgentSilent: \(lossesDetected.count) of \(detectableLosses.count) longer than the silence window"
)
print(String(format: "  %.0f results/s (%.1f s for the replay)", Double(results) / seconds, seconds))
// Rows for bench/run: name value <=target
print(String(format: "ROW alert-detect-p95 %.0f <=%.0f", percentile(0.95), bound))
print(String(format: "ROW alert-true-pos-%% %.2f >=99", tpr * 100))
print(String(format: "ROW alert-false-pos-%% %.2f <=1", fpr * 100))
