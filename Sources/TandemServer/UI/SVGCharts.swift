import Foundation

/// The metrics page's charts as inline SVG (no script, no library): grouped bars per day for a period beside the
/// previous period, and bubbles per weekday × hour. Values reach the markup only as numbers or through `HTML`.
enum SVGCharts {
    /// A bar chart of `current` (one value per day, labelled) beside `previous` (same length; shorter is padded).
    static func dailyBars(labels: [String], current: [Int], previous: [Int], currentName: String, previousName: String) -> HTML {
        let width = 960.0
        let height = 280.0
        let left = 44.0
        let bottom = 28.0
        let top = 12.0
        let plotWidth = width - left - 10
        let plotHeight = height - bottom - top
        let count = max(labels.count, 1)
        let maximum = Self.niceCeiling(max(current.max() ?? 0, previous.max() ?? 0, 1))
        let slot = plotWidth / Double(count)
        let barWidth = max(1.5, slot * 0.36)
        var parts: [HTML] = []
        // Whole-number ticks: 1, 2, 5 or 4 steps, whichever divides the (1-2-5) maximum.
        let ticks = [5, 4, 2, 1].first { maximum % $0 == 0 && maximum >= $0 } ?? 1
        for step in 0...ticks {
            let value = maximum * step / ticks
            let y = top + plotHeight - plotHeight * Double(step) / Double(ticks)
            parts.append(
                "<line class=\"grid-line\" x1=\"\(Self.n(left))\" y1=\"\(Self.n(y))\" x2=\"\(Self.n(width - 10))\" y2=\"\(Self.n(y))\"/><text x=\"\(Self.n(left - 6))\" y=\"\(Self.n(y + 4))\" text-anchor=\"end\">\(value)</text>"
            )
        }
        let labelEvery = max(1, Int((Double(count) / 12).rounded(.up)))
        for index in 0..<count {
            let x = left + slot * Double(index) + (slot - 2 * barWidth) / 2
            let now = index < current.count ? current[index] : 0
            let before = index < previous.count ? previous[index] : 0
            let label = index < labels.count ? labels[index] : ""
            let hPrev = plotHeight * Double(before) / Double(maximum)
            let hNow = plotHeight * Double(now) / Double(maximum)
            parts.append(
                """
                <rect class="bar-prev" x="\(Self.n(x))" y="\(Self.n(top + plotHeight - hPrev))" width="\(Self.n(barWidth))" height="\(Self.n(hPrev))" rx="1.5">\
                <title>\(previousName), day \(index + 1): \(before)</title></rect>\
                <rect class="bar-now" data-day="\(label)" data-value="\(now)" x="\(Self.n(x + barWidth))" y="\(Self.n(top + plotHeight - hNow))" \
                width="\(Self.n(barWidth))" height="\(Self.n(hNow))" rx="1.5"><title>\(label): \(now) (\(previousName): \(before))</title></rect>
                """)
            if index % labelEvery == 0 {
                parts.append(
                    "<text x=\"\(Self.n(left + slot * (Double(index) + 0.5)))\" y=\"\(Self.n(height - 8))\" text-anchor=\"middle\">\(String(label.suffix(5)))</text>"
                )
            }
        }
        return """
            <svg class="chart" id="daily-chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(currentName) per day beside \(previousName)">\
            \(parts)</svg>
            """
    }

    /// Bubbles for a weekday (rows, Monday first) × hour (columns) matrix; `value(weekday, hour)` with weekday 1…7.
    static func weekdayHour(_ value: (Int, Int) -> Int) -> HTML {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let left = 44.0
        let cell = 36.0
        let top = 10.0
        let width = left + cell * 24 + 6
        let height = top + cell * 7 + 24
        var maximum = 1
        for d in 1...7 { for h in 0..<24 { maximum = max(maximum, value(d, h)) } }
        var parts: [HTML] = []
        for (row, name) in names.enumerated() {
            let cy = top + cell * (Double(row) + 0.5)
            parts.append("<text x=\"\(Self.n(left - 8))\" y=\"\(Self.n(cy + 4))\" text-anchor=\"end\">\(name)</text>")
            parts.append("<line class=\"grid-line\" x1=\"\(Self.n(left))\" y1=\"\(Self.n(cy))\" x2=\"\(Self.n(width - 6))\" y2=\"\(Self.n(cy))\"/>")
            for hour in 0..<24 {
                let v = value(row + 1, hour)
                guard v > 0 else { continue }
                let r = max(2, (cell / 2 - 2) * (Double(v) / Double(maximum)).squareRoot())
                parts.append(
                    "<circle class=\"bubble\" cx=\"\(Self.n(left + cell * (Double(hour) + 0.5)))\" cy=\"\(Self.n(cy))\" r=\"\(Self.n(r))\"><title>\(name) \(hour):00–\(hour):59 UTC: \(v)</title></circle>"
                )
            }
        }
        for hour in stride(from: 0, to: 24, by: 2) {
            parts.append(
                "<text x=\"\(Self.n(left + cell * (Double(hour) + 0.5)))\" y=\"\(Self.n(height - 6))\" text-anchor=\"middle\">\(String(format: "%02d", hour))h</text>"
            )
        }
        return """
            <svg class="chart" id="weekday-chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="Synchronizations by weekday and hour (UTC)">\
            \(parts)</svg>
            """
    }

    /// 1, 2, 5 × 10ⁿ at or above `value`.
    static func niceCeiling(_ value: Int) -> Int {
        var magnitude = 1
        while magnitude * 10 <= value { magnitude *= 10 }
        for factor in [1, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return value
    }

    /// A coordinate with at most one decimal.
    static func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
