/// A small SVG line chart of one phase over time: p50 (solid) and p95 (dashed) per bucket, gaps
/// where a bucket had no successful probe, an optional budget line, and a hover title per bucket.
struct PhaseChart {
    var phase: String
    /// One label per bucket ("14:00").
    var labels: [String]
    var p50: [Double?]
    var p95: [Double?]
    var limit: Double?

    static let width = 420.0
    static let height = 180.0
    static let left = 50.0
    static let right = 10.0
    static let top = 10.0
    static let bottom = 24.0

    /// Axis ticks: a step of 1, 2, 2.5 or 5 × 10ⁿ, and three to five of them up to `highest`.
    static func ticks(upTo highest: Double) -> [Double] {
        guard highest > 0, highest.isFinite else { return [0, 0.25, 0.5, 0.75, 1] }
        let rough = highest / 4
        var scale = 1.0
        while scale * 10 <= rough { scale *= 10 }
        while scale > rough { scale /= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * scale }.first { $0 >= rough } ?? 10 * scale
        let count = max(3, Int((highest / step).rounded(.up)))
        return (0...count).map { Double($0) * step }
    }

    static func tickLabel(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value >= 1000 { return String(format: "%g s", value / 1000) }
        return String(format: "%g ms", value)
    }

    func render() -> HTML {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let highest = (p95.compactMap { $0 } + p50.compactMap { $0 } + [limit ?? 0]).max() ?? 0
        let ticks = Self.ticks(upTo: highest * 1.02)
        let yMax = ticks.last!
        let n = max(labels.count, 1)
        let step = n > 1 ? plotWidth / Double(n - 1) : 0
        func x(_ i: Int) -> Double { Self.left + (n > 1 ? Double(i) * step : plotWidth / 2) }
        func y(_ v: Double) -> Double { Self.top + plotHeight * (1 - min(v, yMax) / yMax) }

        var svg: HTML = ""
        for value in ticks {
            let ty = y(value)
            svg += """
                <line class="\(value == 0 ? "axis" : "grid")" x1="\(Self.left)" x2="\(Self.width - Self.right)" \
                y1="\(ty)" y2="\(ty)"/><text x="\(Self.left - 6)" y="\(ty + 4)" text-anchor="end">\(Self.tickLabel(value))</text>
                """
        }
        let labelEvery = max(1, Int((Double(n) / 6).rounded(.up)))
        for i in stride(from: 0, to: n, by: labelEvery) {
            svg += """
                <text x="\(x(i))" y="\(Self.height - 6)" text-anchor="\(i == 0 ? "start" : "middle")">\(labels[i])</text>
                """
        }
        if let limit, limit <= yMax {
            svg += """
                <line class="limit" x1="\(Self.left)" x2="\(Self.width - Self.right)" y1="\(y(limit))" y2="\(y(limit))">\
                <title>budget \(StatusFormat.milliseconds(limit))</title></line>
                """
        }
        svg += line(p95, className: "p95", x: x, y: y)
        svg += line(p50, className: "p50", x: x, y: y)
        for i in 0..<labels.count {
            let text =
                "\(labels[i]) · p50 \(StatusFormat.milliseconds(p50[i])) · p95 \(StatusFormat.milliseconds(p95[i]))"
            svg += """
                <rect x="\(x(i) - step / 2)" y="\(Self.top)" width="\(max(step, 4))" height="\(plotHeight)" \
                fill="transparent"><title>\(text)</title></rect>
                """
        }
        return """
            <div class="chart" data-phase="\(phase)"><h3>\(phase)</h3>\
            <svg viewBox="0 0 \(Self.width) \(Self.height)" role="img" aria-label="\(phase) p50 and p95 over time">\(svg)</svg></div>
            """
    }

    /// A path through the buckets with values, broken at gaps; a lone point is drawn as a dot.
    func line(_ values: [Double?], className: String, x: (Int) -> Double, y: (Double) -> Double) -> HTML {
        var path = ""
        var dots: [HTML] = []
        for (i, value) in values.enumerated() {
            guard let value else { continue }
            let joined = i > 0 && values[i - 1] != nil
            path += "\(joined ? "L" : "M")\(SVGNumber.format(x(i))) \(SVGNumber.format(y(value))) "
            let alone = !joined && (i + 1 >= values.count || values[i + 1] == nil)
            if alone {
                dots.append("<circle class=\"\(className)\" cx=\"\(x(i))\" cy=\"\(y(value))\" r=\"2.5\"/>")
            }
        }
        let drawn: HTML = path.isEmpty ? "" : "<path class=\"\(className)\" d=\"\(path)\"/>"
        return drawn + dots.joined()
    }
}
