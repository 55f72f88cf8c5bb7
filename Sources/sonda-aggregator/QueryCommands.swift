import ArgumentParser
import Foundation
import NIOHTTP1
import SondaAggregator
import SondaCLI
import SondaCore

/// Options every read command shares: which server, which token, JSON or a table.
struct ServerOptions: ParsableArguments {
    @Option(help: "The aggregator's base URL.")
    var server: String = "http://127.0.0.1:9470"

    @Option(help: "A read token (default: $SONDA_READ_TOKEN).")
    var token: String?

    @Option(help: "PEM trust store for an https:// server whose CA is not in the system store.")
    var cacert: String?

    @Option(help: "Give up on an answer after this long (e.g. 30s, 2m).")
    var timeout: Duration = .seconds(30)

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    /// GETs `path` with `query`; non-2xx answers become the server's error message.
    func get(_ path: String, query: [(String, String?)] = []) async throws -> Data {
        try await request(
            .GET, path, query: query, token: token ?? ProcessInfo.processInfo.environment["SONDA_READ_TOKEN"], body: nil)
    }

    /// One request to the server through the aggregator's HTTP client (trusting `--cacert` when
    /// given); non-2xx answers become the server's error message, a server that does not answer
    /// exit 69, an answer past 64 MiB a clear error rather than a cut. An empty token is none.
    func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], token: String?, body: Data?
    ) async throws -> Data {
        guard
            var components = URLComponents(
                string: server.hasSuffix("/") ? String(server.dropLast()) + path : server + path),
            components.scheme == "http" || components.scheme == "https"
        else {
            throw CommandFailure(message: "--server '\(SecretRedactor.withoutPassword(server))' is not a URL", code: .usage)
        }
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        if !items.isEmpty { components.queryItems = items }
        if let cacert, !FileManager.default.isReadableFile(atPath: cacert) {
            throw CommandFailure(message: "cannot read --cacert '\(cacert)'", code: .noInput)
        }
        var headers: [(String, String)] = []
        if let token, !token.isEmpty { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let client = cacert.map(OutboundHTTP.init(caFile:)) ?? .shared
        let sent: Result<OutboundHTTP.Answer, OutboundHTTP.Failure>
        do {
            sent = .success(
                try await client.send(
                    method, components.url!.absoluteString, headers: headers, body: body.map(Array.init),
                    timeout: timeout))
        } catch {
            sent = .failure(error)
        }
        await client.shutdown()
        let answer: OutboundHTTP.Answer
        switch sent {
        case .success(let value): answer = value
        case .failure(.tooLarge(let limit)):
            throw CommandFailure(message: "the answer to \(path) is larger than \(limit >> 20) MiB; narrow the query", code: .failed)
        case .failure(let failure):
            throw CommandFailure(message: "cannot reach \(SecretRedactor.withoutPassword(server)): \(failure)", code: .unavailable)
        }
        let data = Data(answer.body)
        guard (200..<300).contains(answer.status) else {
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: String]]
            throw CommandFailure(
                message: "\(answer.status): \(object?["error"]?["message"] ?? String(decoding: data, as: UTF8.self))",
                code: .failed)
        }
        return data
    }

    /// Every page of a list endpoint, read with the largest page the server allows, as one list.
    func list<List: PagedList>(_ path: String, query: [(String, String?)] = [], as: List.Type) async throws -> List {
        var whole: List?
        var cursor: String?
        var cursors: Set<String> = []
        repeat {
            let data = try await get(path, query: query + [("limit", String(ListLimits.maximum)), ("cursor", cursor)])
            let page: List
            do {
                page = try JSONDecoder().decode(List.self, from: data)
            } catch {
                throw CommandFailure(message: "the answer to \(path) is not the list the API sends: \(error)", code: .failed)
            }
            if whole == nil { whole = page } else { whole?.append(page) }
            cursor = page.nextCursor
            if let cursor, !cursors.insert(cursor).inserted {
                throw CommandFailure(message: "\(path) answered a cursor it had already answered; stopped", code: .failed)
            }
        } while cursor != nil
        whole?.nextCursor = nil
        return whole!
    }

    /// A list read with `list`: its JSON as the API writes it (one object, every page's entries),
    /// or a table.
    func output<List: PagedList>(_ list: List, table: (List) -> String) throws {
        guard json else { return print(table(list), terminator: "") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(list) + Data("\n".utf8))
    }

    func output(_ data: Data, table: (Data) throws -> String) throws {
        if json {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            print(try table(data), terminator: "")
        }
    }

    static var colour: Bool { isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
}

struct BudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budgets", abstract: "Latency budget cells: p50/p95/p99 per region × profile × class × phase.")
    @OptionGroup var options: ServerOptions
    @Option var region: String?
    @Option var profile: String?
    @Option(name: .customLong("class")) var endpointClass: String?
    @Option var window = "1h"

    func run() async throws {
        let data = try await options.get(
            "/v1/budgets",
            query: [("region", region), ("profile", profile), ("class", endpointClass), ("window", window)])
        try options.output(data) {
            ReportTables.budgets(try JSONDecoder().decode(BudgetReport.self, from: $0), colour: ServerOptions.colour)
        }
    }
}

struct UptimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uptime", abstract: "Availability, error budget left and burn rates per check per region.")
    @OptionGroup var options: ServerOptions
    @Option var check: String?
    @Option var region: String?
    @Option var window = "1h"

    func run() async throws {
        let data = try await options.get(
            "/v1/uptime", query: [("check", check), ("region", region), ("window", window)])
        try options.output(data) {
            ReportTables.uptime(try JSONDecoder().decode(UptimeReport.self, from: $0), colour: ServerOptions.colour)
        }
    }
}

struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents", abstract: "Every configured agent: last seen, version, spool depth, dropped.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        try options.output(try await options.list("/v1/agents", as: AgentStatus.List.self), table: ReportTables.agents)
    }
}
