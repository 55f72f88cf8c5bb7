import ArgumentParser
import Foundation
import NIOHTTP1
import SondaAggregator
import SondaCLI
import SondaCore

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Firing, silenced and recently resolved alerts, most urgent first.")
    @OptionGroup var options: ServerOptions
    @Option(help: "Only alerts in this state: firing, silenced, resolved or pending.") var state: String?
    @Option(help: "How far back resolved alerts are listed.") var since = "24h"

    func run() async throws {
        let alerts = try await options.list(
            "/v1/alerts", query: [("state", state), ("since", since)], as: AlertList.self)
        try options.output(alerts) { ReportTables.alerts($0, colour: ServerOptions.colour) }
    }
}

struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Mute matching alerts for a while, list the silences, or end one early.",
        discussion: """
            add and expire need an admin token (--token, or $SONDA_ADMIN_TOKEN) when the aggregator has \
            admin_tokens; without them they are taken only from the aggregator's own host.
            """,
        subcommands: [Add.self, List.self, Expire.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Silence alerts whose labels match every --matcher (e.g. --matcher check=booking --for 2h).")
        @OptionGroup var options: ServerOptions
        @Option(help: "LABEL=VALUE; repeat to narrow the match.") var matcher: [String] = []
        @Option(name: .customLong("for"), help: "How long, e.g. 30m, 2h, 1d.") var duration: String
        @Option(help: "Why (shown in the silence list and the audit log).") var comment: String?

        func validate() throws {
            guard !matcher.isEmpty else { throw ValidationError("give at least one --matcher LABEL=VALUE") }
            for m in matcher where m.split(separator: "=", maxSplits: 1).count != 2 {
                throw ValidationError("--matcher '\(m)' must be LABEL=VALUE, like check=booking")
            }
        }

        func run() async throws {
            var matchers: [String: String] = [:]
            for m in matcher {
                let parts = m.split(separator: "=", maxSplits: 1)
                matchers[String(parts[0])] = String(parts[1])
            }
            var body: [String: Any] = ["matchers": matchers, "duration": duration]
            if let comment { body["comment"] = comment }
            let data = try await options.send(
                "/v1/silences", method: .POST, body: try JSONSerialization.data(withJSONObject: body))
            try options.output(data) {
                ReportTables.silences(SilenceList(silences: [try JSONDecoder().decode(SilenceEntry.self, from: $0)]))
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a silence now (its id is in silence list); its alerts are announced again.")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The silence's id.") var id: String

        func run() async throws {
            guard let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"]))
            else { throw CommandFailure(message: "'\(id)' is not a silence id", code: .usage) }
            let data = try await options.send("/v1/silences/\(escaped)", method: .DELETE, body: nil)
            try options.output(data) {
                ReportTables.silences(SilenceList(silences: [try JSONDecoder().decode(SilenceEntry.self, from: $0)]))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silences that are active or scheduled.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try options.output(
                try await options.list("/v1/silences", as: SilenceList.self), table: ReportTables.silences)
        }
    }
}

extension ServerOptions {
    /// Sends `body` as JSON with `method` and the admin token (`--token`, else `$SONDA_ADMIN_TOKEN`,
    /// else `$SONDA_READ_TOKEN`); non-2xx answers become the server's error message.
    func send(_ path: String, method: HTTPMethod, body: Data?) async throws -> Data {
        let environment = ProcessInfo.processInfo.environment
        let admin = environment["SONDA_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return try await request(method, path, token: token ?? admin ?? environment["SONDA_READ_TOKEN"], body: body)
    }
}
