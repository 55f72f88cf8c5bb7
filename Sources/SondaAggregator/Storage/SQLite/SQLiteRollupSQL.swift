/// The SQL that writes and reads SQLite's rollup tables, one literal per table: no table or
/// column name is put together at run time, and every value is bound. A filter that is not
/// given is bound as NULL (`? IS NULL OR region = ?`); the phases asked for come as one JSON array.
enum SQLiteRollupSQL {
    /// `MinuteRollup.save`: the stored histogram and count of a latency row, by its key in table order.
    static func storedHistogram(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            SELECT histogram, count FROM latency_minute
            WHERE minute = ? AND region = ? AND profile = ? AND check_name = ? AND class = ? AND phase = ?
            """
        case .hour:
            """
            SELECT histogram, count FROM latency_hour
            WHERE hour = ? AND region = ? AND profile = ? AND class = ? AND phase = ?
            """
        case .day:
            """
            SELECT histogram, count FROM latency_day
            WHERE day = ? AND region = ? AND profile = ? AND class = ? AND phase = ?
            """
        }
    }

    /// `MinuteRollup.save`: a latency row's key, then its count and merged histogram.
    static func replaceHistogram(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            INSERT OR REPLACE INTO latency_minute (minute, region, profile, check_name, class, phase, count, histogram)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        case .hour:
            """
            INSERT OR REPLACE INTO latency_hour (hour, region, profile, class, phase, count, histogram)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """
        case .day:
            """
            INSERT OR REPLACE INTO latency_day (day, region, profile, class, phase, count, histogram)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """
        }
    }

    /// `MinuteRollup.save`: an outcome row's key, then the count to add.
    static func addOutcomes(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            INSERT INTO outcome_minute (minute, region, profile, check_name, class, error_code, count)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """
        case .hour:
            """
            INSERT INTO outcome_hour (hour, region, profile, check_name, class, error_code, count)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """
        case .day:
            """
            INSERT INTO outcome_day (day, region, profile, check_name, class, error_code, count)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """
        }
    }

    /// The budget cells' histograms since a bucket: (since, region ×2, profile ×2, class ×2, phases as JSON).
    static func histograms(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            SELECT region, profile, class, phase, histogram FROM latency_minute WHERE minute >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            AND phase IN (SELECT value FROM json_each(?))
            """
        case .hour:
            """
            SELECT region, profile, class, phase, histogram FROM latency_hour WHERE hour >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            AND phase IN (SELECT value FROM json_each(?))
            """
        case .day:
            """
            SELECT region, profile, class, phase, histogram FROM latency_day WHERE day >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            AND phase IN (SELECT value FROM json_each(?))
            """
        }
    }

    /// The budget cells with any outcome since a bucket: (since, region ×2, profile ×2, class ×2).
    static func cells(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            SELECT DISTINCT region, profile, class FROM outcome_minute WHERE minute >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            """
        case .hour:
            """
            SELECT DISTINCT region, profile, class FROM outcome_hour WHERE hour >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            """
        case .day:
            """
            SELECT DISTINCT region, profile, class FROM outcome_day WHERE day >= ?
            AND (? IS NULL OR region = ?) AND (? IS NULL OR profile = ?) AND (? IS NULL OR class = ?)
            """
        }
    }

    /// Outcome counts per check × region since a bucket: (since, check ×2, region ×2).
    static func outcomeCounts(_ span: MinuteRollup.Span) -> String {
        switch span {
        case .minute:
            """
            SELECT check_name, region, SUM(count), SUM(CASE WHEN error_code != '' THEN count ELSE 0 END)
            FROM outcome_minute WHERE minute >= ? AND (? IS NULL OR check_name = ?) AND (? IS NULL OR region = ?)
            GROUP BY check_name, region
            """
        case .hour:
            """
            SELECT check_name, region, SUM(count), SUM(CASE WHEN error_code != '' THEN count ELSE 0 END)
            FROM outcome_hour WHERE hour >= ? AND (? IS NULL OR check_name = ?) AND (? IS NULL OR region = ?)
            GROUP BY check_name, region
            """
        case .day:
            """
            SELECT check_name, region, SUM(count), SUM(CASE WHEN error_code != '' THEN count ELSE 0 END)
            FROM outcome_day WHERE day >= ? AND (? IS NULL OR check_name = ?) AND (? IS NULL OR region = ?)
            GROUP BY check_name, region
            """
        }
    }
}
