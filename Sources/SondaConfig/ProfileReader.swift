import Foundation
import SondaCore
import Yams

/// A profiles file (probes/profiles.yaml, or a user's own):
/// `profiles: [{name: 3G, rtt: 300ms, down_kbps: 1600, up_kbps: 768, loss: 1%, source: "…"}]`.
/// An omitted bandwidth means no limit that way; zero or negative is an error, as is an RTT over 10 s.
/// `loss` is a percentage with its `%` (a bare 1 could mean 1 % or 100 %; only 0 needs none), from
/// 0 up to, not including, 50 %.
enum ProfileReader {
    static let keys = ["name", "rtt", "down_kbps", "up_kbps", "loss", "source"]

    static func profile(_ node: Node, in file: ConfigFile) -> NetworkProfile? {
        guard let r = MappingReader(node, in: file, context: "a profile", allowed: keys) else { return nil }
        guard let name = r.string("name", required: true) else { return nil }
        guard let rtt = r.duration("rtt", required: true) else { return nil }
        if rtt.milliseconds > NetworkProfile.maxRTTMilliseconds {
            file.error("rtt of profile '\(name)' must be at most 10s, got \(rtt.milliseconds) ms", at: r.value("rtt"))
        }
        func kilobits(_ key: String) -> Double {
            guard let (text, valueNode) = r.scalar(key) else { return 0 }
            guard let value = Double(text), value.isFinite else {
                file.error(
                    "\(key) of profile '\(name)' must be a number of kilobits per second, got '\(text)'", at: valueNode)
                return 0
            }
            if value <= 0 {
                file.error(
                    "\(key) of profile '\(name)' must be more than 0 (leave it out for no limit), got \(text)",
                    at: valueNode)
            }
            return value
        }
        func lossPercent() -> Double {
            guard let (text, valueNode) = r.scalar("loss", what: "a percentage like 1% or 0.5%") else { return 0 }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let number =
                trimmed.hasSuffix("%")
                ? Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces))
                : Double(trimmed).flatMap { $0 == 0 ? 0 : nil }
            guard let value = number, value.isFinite else {
                file.error(
                    "loss of profile '\(name)' must be a percentage like 1% or 0.5%, got '\(text)'", at: valueNode)
                return 0
            }
            if value < 0 || value >= NetworkProfile.maxLossPercent {
                file.error("loss of profile '\(name)' must be from 0% to below 50%, got \(trimmed)", at: valueNode)
            }
            return value
        }
        return NetworkProfile(
            name: name, rttMilliseconds: rtt.milliseconds, downlinkKilobitsPerSecond: kilobits("down_kbps"),
            uplinkKilobitsPerSecond: kilobits("up_kbps"), lossPercent: lossPercent(),
            source: r.string("source") ?? "user-defined")
    }
}

extension ConfigLoader {
    /// The profiles a file defines; nil when it has errors (they are in `diagnostics`).
    public mutating func loadProfiles(path: String) -> [NetworkProfile]? {
        guard let file = open(path), let root = file.root(holding: "a profiles file (`profiles:`)") else { return nil }
        guard let r = MappingReader(root, in: file, context: "a profiles file", allowed: ["profiles"]),
            let items = r.sequence("profiles", required: true)
        else { return nil }
        var seen: Set<String> = []
        var profiles: [NetworkProfile] = []
        for item in items {
            guard let profile = ProfileReader.profile(item, in: file) else { continue }
            if !seen.insert(profile.name).inserted {
                file.error("profile '\(profile.name)' is defined twice", at: item)
            }
            profiles.append(profile)
        }
        return sink.hasErrors ? nil : profiles
    }
}
