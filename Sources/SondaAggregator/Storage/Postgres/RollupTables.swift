/// PostgreSQL's ingest appends a batch's minute rows to `latency_pending` and `outcome_pending`
/// and nothing else; every few seconds the lease holder moves them into the minute tables and adds
/// them up into the hour and day tables (`rollUpPending`): one hour and one day row per key for
/// all the batches since the last move, instead of one per batch (two thirds of the rollup rows
/// ingest wrote, see docs/performance.md). Readers select from `latencySource` and
/// `outcomeSource`, which add the pending rows to each span's table, so a committed result counts
/// in every span at once, as before.
enum RollupTables {
    static let latencyPending = "latency_pending"
    static let outcomePending = "outcome_pending"
}

extension MinuteRollup.Span {
    /// The span's bucket of a pending row's `minute`.
    private var pendingBucket: String {
        switch self {
        case .minute: "minute"
        case .hour: "minute / 60"
        case .day: "minute / 1440"
        }
    }

    /// What a reader of this span's latency rows selects from, under the table's own name.
    var latencySource: String {
        let columns =
            "region, profile, \(self == .minute ? "check_name, " : "")class, count, \(PhaseHistograms.columns)"
        return """
            (SELECT \(column), \(columns) FROM \(latencyTable)
             UNION ALL SELECT \(pendingBucket), \(columns) FROM \(RollupTables.latencyPending)) AS \(latencyTable)
            """
    }

    /// What a reader of this span's outcome counts selects from, under the table's own name.
    var outcomeSource: String {
        let columns = "region, profile, check_name, class, error_code, count"
        return """
            (SELECT \(column), \(columns) FROM \(outcomeTable)
             UNION ALL SELECT \(pendingBucket), \(columns) FROM \(RollupTables.outcomePending)) AS \(outcomeTable)
            """
    }
}

extension RollupSpan {
    var latencySource: String { granularity.latencySource }
    var outcomeSource: String { granularity.outcomeSource }
}
