import Foundation
import TestSupport
import Testing

/// `make demo` in its bounded mode, as CI runs it: `scripts/demo` with DEMO_SECONDS and the
/// binaries `swift build` already left (SONDA_BIN, so the demo does not touch the build), no
/// terminal on stdin. It must print a budget table with data for every region × profile, a
/// critical TLS alert for the TLS 1.2-only legacy host, a status page that answered, and leave
/// no process behind.
@Suite struct DemoTests {
    static let regions = ["sao_paulo", "rio_de_janeiro"]
    static let profiles = ["desktop_brazil", "mobile_4g_brazil", "mobile_3g_brazil"]

    @Test func boundedDemoPrintsEveryCellTheTLSAlertAndTheStatusPageAndStopsEverything() async throws {
        let bin = URL(fileURLWithPath: TLSLab.builtBinary("sonda-aggregator")).deletingLastPathComponent().path
        try #require(
            FileManager.default.isExecutableFile(atPath: bin + "/sonda-agent"), "sonda-agent is not built in \(bin)")
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-demo-logs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: logs) }
        let demo = try BackgroundProcess(
            TLSLab.packageRoot.appendingPathComponent("scripts/demo").path, [],
            environment: ["DEMO_SECONDS": "60", "SONDA_BIN": bin, "DEMO_LOGS": logs, "NO_COLOR": "1"])

        // While it runs, note every process it started: its descendants, and whatever names its
        // work folder (nginx daemonizes away from the process tree).
        var started: [ProcessTable.Entry] = []
        var workFolder: String?
        var status: Int32?
        let deadline = ContinuousClock.now + .seconds(300)
        while status == nil && ContinuousClock.now < deadline {
            if workFolder == nil { workFolder = Self.workFolder(in: demo.log) }
            for entry in ProcessTable.started(by: demo.pid, naming: workFolder) {
                // A forked shell that execs later keeps its pid and start time: keep its last command.
                if let known = started.firstIndex(where: { $0.pid == entry.pid && $0.startTime == entry.startTime }) {
                    started[known] = entry
                } else {
                    started.append(entry)
                }
            }
            status = await demo.wait(timeout: .milliseconds(500))
        }
        if status == nil {  // stuck: stop it as Ctrl-C would, so its cleanup still runs
            demo.signal(SIGTERM)
            _ = await demo.wait(timeout: .seconds(60))
        }
        let output = demo.log
        let childLogs = Self.logs(in: logs)
        let context = "demo output:\n\(output)\n\(childLogs)"
        let survivors = started.filter(\.isRunning)
        for survivor in survivors { kill(survivor.pid, SIGKILL) }  // never leave them to the next run
        if let workFolder, FileManager.default.fileExists(atPath: workFolder + "/lab") {
            _ = try? await ChildProcess.run(
                TLSLab.packageRoot.appendingPathComponent("scripts/tls-lab").path, ["stop", workFolder + "/lab"])
        }

        try #require(status == 0, "the bounded demo did not exit 0 within 5 minutes (status \(status.map(String.init) ?? "none"))\n\(context)")
        let work = try #require(workFolder, "the demo did not print its work folder\n\(context)")

        // The budget table: every region × profile has a row with data.
        let budgets = Self.rows(of: "budgets", in: output)
        for region in Self.regions {
            for profile in Self.profiles {
                #expect(
                    budgets.contains { $0["region"] == region && $0["profile"] == profile && (Int($0["count"] ?? "") ?? 0) > 0 },
                    "no budget row with data for \(region) × \(profile)\n\(context)")
            }
        }
        // The endpoint that degrades: within budget at first (its median is), over it by the end.
        for region in Self.regions {
            for profile in Self.profiles {
                let cell = budgets.first {
                    $0["region"] == region && $0["profile"] == profile && $0["class"] == "custom:exam_results"
                }
                #expect(
                    ["degraded", "violated"].contains(cell?["state"] ?? ""),
                    "the degrading endpoint's cell for \(region) × \(profile) is not degraded or violated: \(cell ?? [:])\n\(context)")
                if profile == "desktop_brazil", let cell, let p50 = Self.milliseconds(cell["p50"]),
                    let limit = Self.milliseconds(cell["budget"]?.components(separatedBy: "≤ ").last)
                {
                    #expect(p50 < limit, "the degrading endpoint was never within its budget: \(cell)\n\(context)")
                }
            }
        }

        // The alerts: the legacy host's TLS 1.2 is a critical SondaTLSPolicy on its check.
        let alerts = Self.rows(of: "alerts", in: output)
        #expect(
            alerts.contains {
                $0["severity"] == "critical" && $0["state"] == "firing" && $0["alert"] == "SondaTLSPolicy"
                    && $0["where"]?.hasPrefix("legacy-portal ") == true && $0["summary"]?.contains("TLSv1.2") == true
            },
            "no critical SondaTLSPolicy alert for legacy-portal\n\(context)")

        // The status page answered with HTML while everything was up.
        let statusLine = output.split(separator: "\n").first { $0.hasPrefix("Status page: ") }.map(String.init)
        #expect(
            statusLine?.range(of: #"^Status page: http://127\.0\.0\.1:\d+/  \(answered 200 text/html[^,]*, "[^"]*Sonda[^"]*";"#, options: .regularExpression) != nil,
            "the status page line does not show a 200 HTML answer: \(statusLine ?? "missing")\n\(context)")

        // Nothing it started survives it.
        #expect(started.contains { $0.command.contains("sonda-aggregator serve") }, "never saw the aggregator: \(started)")
        #expect(started.filter { $0.command.contains("sonda-agent run") }.count == 2, "never saw both agents: \(started)\n\(context)")
        #expect(started.contains { $0.command.contains("nginx") }, "never saw the lab's nginx: \(started)")
        // Known by the pid it prints too: once in CI the only entry in its place had an empty
        // command line (a sample read it mid-exec) and no later sample named it.
        let endpoint = Self.endpointPid(in: childLogs)
        #expect(
            started.contains { $0.command.contains("degrading-endpoint") || $0.pid == endpoint },
            "never saw the degrading endpoint (pid \(endpoint.map(String.init) ?? "not printed")): \(started)")
        #expect(survivors.isEmpty, "still running after the demo exited: \(survivors)\n\(context)")
        #expect(!FileManager.default.fileExists(atPath: work), "the demo left its work folder \(work)")
    }

    /// The work folder from the demo's first line, "… (SQLite in /tmp/sonda-demo.XXXXXX), …".
    static func workFolder(in output: String) -> String? {
        guard let range = output.range(of: #"SQLite in [^)\s]+"#, options: .regularExpression) else { return nil }
        return String(output[range].dropFirst("SQLite in ".count))
    }

    /// The pid the degrading endpoint printed to its log ("degrading-endpoint: pid P, port N").
    static func endpointPid(in logs: String) -> pid_t? {
        guard let range = logs.range(of: #"degrading-endpoint: pid \d+"#, options: .regularExpression) else { return nil }
        return pid_t(logs[range].split(separator: " ").last ?? "")
    }

    /// The table printed after `$ sonda-aggregator COMMAND`, each row keyed by the header's
    /// columns (cells are separated by at least two spaces, as ReportTables pads them).
    static func rows(of command: String, in output: String) -> [[String: String]] {
        let lines = output.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix("$ sonda-aggregator \(command) ") }) else { return [] }
        let table = lines[(start + 1)...].prefix { !$0.isEmpty }.filter { !$0.hasPrefix("window ") }
        guard let header = table.first.map(Self.cells) else { return [] }
        return table.dropFirst().map { line in
            Dictionary(zip(header, Self.cells(line)), uniquingKeysWith: { first, _ in first })
        }
    }

    static func cells(_ line: String) -> [String] {
        line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// "309.9 ms" or "1.45 s" in milliseconds.
    static func milliseconds(_ text: String?) -> Double? {
        let parts = (text ?? "").split(separator: " ")
        guard parts.count == 2, let value = Double(parts[0]) else { return nil }
        switch parts[1] {
        case "ms": return value
        case "s": return value * 1000
        default: return nil
        }
    }

    /// The children's logs the demo copied into DEMO_LOGS, for failure messages.
    static func logs(in folder: String) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        return names.map { name in
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name) (last 40 lines)\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// The processes in /proc, to tell which ones a script started and whether they still run.
enum ProcessTable {
    struct Entry: CustomStringConvertible {
        var pid: pid_t
        var parent: pid_t
        var startTime: String
        var command: String

        /// Alive under the same identity (a reused pid has another start time; a zombie is dead).
        var isRunning: Bool {
            guard let now = ProcessTable.entry(pid) else { return false }
            return now.startTime == startTime && now.state != "Z"
        }

        var description: String { "\(pid) \(command)" }
        fileprivate var state = ""
    }

    static func entry(_ pid: pid_t) -> Entry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.range(of: ") ", options: .backwards)
        else { return nil }
        // After "pid (comm) ": state, ppid, …; the start time is field 22 of the line.
        let fields = stat[close.upperBound...].split(separator: " ")
        guard fields.count > 19, let parent = pid_t(fields[1]) else { return nil }
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let command = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        var entry = Entry(pid: pid, parent: parent, startTime: String(fields[19]), command: command)
        entry.state = String(fields[0])
        return entry
    }

    static func all() -> [Entry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }.compactMap(entry)
    }

    /// Descendants of `root`, processes whose command line names `folder`, and their descendants.
    static func started(by root: pid_t, naming folder: String?) -> [Entry] {
        let table = all()
        var chosen = Set(table.filter { entry in folder.map { entry.command.contains($0) } ?? false }.map(\.pid))
        chosen.insert(root)
        var grew = true
        while grew {
            let next = chosen.union(table.filter { chosen.contains($0.parent) }.map(\.pid))
            grew = next.count > chosen.count
            chosen = next
        }
        return table.filter { chosen.contains($0.pid) && $0.pid != root && $0.state != "Z" }
    }
}
