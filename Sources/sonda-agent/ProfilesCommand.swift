import ArgumentParser
import Foundation
import SondaCore

/// `sonda-agent profiles`: the network profiles a probe can run under, as a table.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the network profiles (built-in, plus --profiles FILE) with RTT, bandwidth, loss and source."
    )

    @Option(help: "Profiles file with user-defined profiles (YAML `profiles:` list).")
    var profiles: String?

    func run() throws {
        print(Self.table(try ProfileChoice.available(file: profiles)))
    }

    static func table(_ profiles: [NetworkProfile]) -> String {
        let width = max(8, (profiles.map(\.name.count).max() ?? 0) + 2)
        func rate(_ kbps: Double) -> String {
            kbps <= 0 ? "–" : kbps >= 1000 ? String(format: "%g Mbit/s", kbps / 1000) : String(format: "%g kbit/s", kbps)
        }
        // "–" as for rates: the link adds nothing there.
        func loss(_ percent: Double) -> String { percent <= 0 ? "–" : String(format: "%g %%", percent) }
        var lines = [
            "name".padding(toLength: width, withPad: " ", startingAt: 0) + "rtt".leftAligned(9) + "down".leftAligned(13)
                + "up".leftAligned(13) + "loss".leftAligned(7) + "source"
        ]
        for p in profiles {
            lines.append(
                p.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: "%g ms", p.rttMilliseconds).leftAligned(9) + rate(p.downlinkKilobitsPerSecond).leftAligned(13)
                    + rate(p.uplinkKilobitsPerSecond).leftAligned(13) + loss(p.lossPercent).leftAligned(7) + p.source)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftAligned(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
