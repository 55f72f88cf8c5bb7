import SondaCore

/// The status page's SQL on SQLite whose table depends on the window, one literal per table (as
/// `SQLiteRollupSQL`): no table or column name is put together at run time.
enum SQLiteStatusPageSQL {
    /// Outcomes per check since a bucket, for the SLO window: (since).
    static func outcomesPerCheck(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            "SELECT check_name, error_code != '', SUM(count) FROM outcome_minute WHERE minute >= ? GROUP BY 1, 2"
        case .hour:
            "SELECT check_name, error_code != '', SUM(count) FROM outcome_hour WHERE hour >= ? GROUP BY 1, 2"
        case .day:
            "SELECT check_name, error_code != '', SUM(count) FROM outcome_day WHERE day >= ? GROUP BY 1, 2"
        }
    }

    /// One check's outcomes per region, profile, class and error since a bucket: (since, check).
    static func checkOutcomes(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            SELECT region, profile, class, error_code, SUM(count) FROM outcome_minute
            WHERE minute >= ? AND check_name = ? GROUP BY 1, 2, 3, 4
            """
        case .hour:
            """
            SELECT region, profile, class, error_code, SUM(count) FROM outcome_hour
            WHERE hour >= ? AND check_name = ? GROUP BY 1, 2, 3, 4
            """
        case .day:
            """
            SELECT region, profile, class, error_code, SUM(count) FROM outcome_day
            WHERE day >= ? AND check_name = ? GROUP BY 1, 2, 3, 4
            """
        }
    }

    /// The order in which the check page's histogram query numbers phases (its `CASE phase`).
    static let phaseOrder: [PhaseTimings.Phase] = [.dns, .connect, .proxy, .tls, .send, .wait, .receive, .total]
}
