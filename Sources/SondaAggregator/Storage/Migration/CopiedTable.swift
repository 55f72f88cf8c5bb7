import Foundation

/// A table `sonda-aggregator migrate` copies row for row from SQLite to PostgreSQL. Both schemas
/// name these columns alike; what differs (SQLite's rowid, PostgreSQL's partitions, transaction
/// ids and sequences) is each side's to handle.
///
/// The copy's SQL is put together from these names, so the set is closed: a table can only be one
/// of the values below (the initialisers are private), and every name in them is a literal of
/// this file or of `MinuteRollup.Span`. No text from outside (a file, a flag, a row) can become part of a statement.
struct CopiedTable: Sendable {
    enum Kind: Sendable { case text, bigint, double, boolean, bytes }

    struct Column: Sendable {
        let name: String
        let kind: Kind
        let nullable: Bool

        fileprivate init(name: String, kind: Kind, nullable: Bool = false) {
            self.name = name
            self.kind = kind
            self.nullable = nullable
        }
    }

    let name: String
    let columns: [Column]
    /// The columns the table is read in order of, a chunk at a time: its primary key (or SQLite's
    /// rowid, which is the order results were stored in).
    let key: [String]

    private init(name: String, columns: [Column], key: [String]) {
        self.name = name
        self.columns = columns
        self.key = key
    }

    static let results = CopiedTable(
        name: "results",
        columns: [
            .init(name: "id", kind: .text), .init(name: "started_at_ms", kind: .bigint),
            .init(name: "agent", kind: .text), .init(name: "check_name", kind: .text),
            .init(name: "step", kind: .text, nullable: true), .init(name: "region", kind: .text),
            .init(name: "profile", kind: .text), .init(name: "class", kind: .text), .init(name: "ok", kind: .boolean),
            .init(name: "error_code", kind: .text, nullable: true), .init(name: "total_ms", kind: .double),
            .init(name: "json", kind: .text),
        ],
        key: ["rowid"])

    /// The latency and outcome rollups, minute, hour and day, with the counts and histograms as stored.
    static let rollups: [CopiedTable] = MinuteRollup.Span.allCases.flatMap { span in
        let check = span == .minute ? ["check_name"] : []
        let latencyKey = [span.column, "region", "profile"] + check + ["class", "phase"]
        let outcomeKey = [span.column, "region", "profile", "check_name", "class", "error_code"]
        return [
            CopiedTable(
                name: span.latencyTable,
                columns: [.init(name: span.column, kind: .bigint)]
                    + latencyKey.dropFirst().map { .init(name: $0, kind: .text) }
                    + [.init(name: "count", kind: .bigint), .init(name: "histogram", kind: .bytes)],
                key: latencyKey),
            CopiedTable(
                name: span.outcomeTable,
                columns: [.init(name: span.column, kind: .bigint)]
                    + outcomeKey.dropFirst().map { .init(name: $0, kind: .text) }
                    + [.init(name: "count", kind: .bigint)],
                key: outcomeKey),
        ]
    }

    static let agents = CopiedTable(
        name: "agents",
        columns: [
            .init(name: "id", kind: .text), .init(name: "region", kind: .text),
            .init(name: "last_seen_ms", kind: .bigint), .init(name: "version", kind: .text),
            .init(name: "config_hash", kind: .text), .init(name: "spool_depth", kind: .bigint),
            .init(name: "dropped_total", kind: .bigint), .init(name: "quarantined_total", kind: .bigint),
            .init(name: "batches", kind: .bigint),
            .init(name: "results", kind: .bigint),
        ],
        key: ["id"])

    /// Every episode: pending, firing and the resolved history.
    static let alerts = CopiedTable(
        name: "alerts",
        columns: [
            .init(name: "fingerprint", kind: .text), .init(name: "active_since_ms", kind: .bigint),
            .init(name: "labels", kind: .text), .init(name: "severity", kind: .text), .init(name: "state", kind: .text),
            .init(name: "silenced", kind: .boolean), .init(name: "summary", kind: .text),
            .init(name: "description", kind: .text), .init(name: "starts_at_ms", kind: .bigint, nullable: true),
            .init(name: "ends_at_ms", kind: .bigint, nullable: true),
            .init(name: "last_sent_ms", kind: .bigint, nullable: true),
            .init(name: "false_since_ms", kind: .bigint, nullable: true),
        ],
        key: ["fingerprint", "active_since_ms"])

    static let silences = CopiedTable(
        name: "silences",
        columns: [
            .init(name: "id", kind: .text), .init(name: "matchers", kind: .text),
            .init(name: "starts_at_ms", kind: .bigint), .init(name: "ends_at_ms", kind: .bigint),
            .init(name: "comment", kind: .text), .init(name: "created_at_ms", kind: .bigint),
        ],
        key: ["id"])

    /// Notifications queued for delivery, pending ones included (a resolution still to be sent
    /// must not be lost by moving), in the order they were queued.
    static let notifications = CopiedTable(
        name: "notifications",
        columns: [
            .init(name: "key", kind: .text), .init(name: "receiver", kind: .text), .init(name: "body", kind: .bytes),
            .init(name: "alerts", kind: .bigint), .init(name: "created_at_ms", kind: .bigint),
            .init(name: "state", kind: .text), .init(name: "due_at_ms", kind: .bigint),
            .init(name: "attempts", kind: .bigint), .init(name: "last_error", kind: .text, nullable: true),
            .init(name: "finished_at_ms", kind: .bigint, nullable: true),
        ],
        key: ["id"])

    /// The chain's rows as they are, sequence numbers included, so every hash still verifies.
    static let audit = CopiedTable(
        name: "audit",
        columns: [
            .init(name: "seq", kind: .bigint), .init(name: "at_ms", kind: .bigint), .init(name: "kind", kind: .text),
            .init(name: "detail", kind: .text), .init(name: "prev_hash", kind: .text), .init(name: "hash", kind: .text),
        ],
        key: ["seq"])

    /// Every table, in the order they are copied: results first (the largest, and the evaluator's
    /// cursor is placed among them), the audit chain last.
    static let all: [CopiedTable] = [results] + rollups + [agents, alerts, silences, notifications, audit]
}

extension CopiedTable {
    /// How many rows the table has.
    var countSQL: String { "SELECT count(*) FROM " + name }

    /// A chunk of the table's rows in key order, key columns first: rows after a key (with
    /// `after`) and up to one (with `through`). Its parameters: the `after` key's values, the
    /// `through` key's, then the most rows to read.
    func chunkSQL(after: Bool, through: Bool) -> String {
        let key = "(" + self.key.joined(separator: ", ") + ")"
        let marks = "(" + Array(repeating: "?", count: self.key.count).joined(separator: ", ") + ")"
        let conditions = (after ? [key + " > " + marks] : []) + (through ? [key + " <= " + marks] : [])
        return "SELECT " + (self.key + columns.map(\.name)).joined(separator: ", ") + " FROM " + name
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY " + self.key.joined(separator: ", ") + " LIMIT ?"
    }
}

/// A chunk of a table's rows, a column at a time (as PostgreSQL's `UNNEST` takes them). A
/// nullable column has a placeholder where `nulls` is true.
struct CopiedRows: Sendable {
    enum Values: Sendable {
        case text([String])
        case bigint([Int64])
        case double([Double])
        case boolean([Bool])
        case bytes([Data])
    }

    var values: [Values]
    /// Per column: which rows hold NULL, for nullable columns; nil for the others.
    var nulls: [[Bool]?]
    var count: Int
}
