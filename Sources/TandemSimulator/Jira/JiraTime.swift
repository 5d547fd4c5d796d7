import Foundation

/// Jira's time stamps and JQL dates, in the API user's profile time zone.
enum JiraTime {
    /// `2022-05-17T04:06:55.076-0700`: milliseconds, offset without a colon, in `zone`.
    static func format(_ date: Date, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: date)
        let local = Self.components(date, offset: offset)
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) - Int((date.timeIntervalSince1970).rounded(.down)) * 1000
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        let stamp = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d", local.year, local.month, local.day, local.hour, local.minute, local.second,
            (millis + 1000) % 1000)
        return stamp + sign + String(format: "%02d%02d", minutes / 60, minutes % 60)
    }

    /// `2022-05-17` in `zone`.
    static func day(_ date: Date, in zone: TimeZone) -> String {
        let local = Self.components(date, offset: zone.secondsFromGMT(for: date))
        return String(format: "%04d-%02d-%02d", local.year, local.month, local.day)
    }

    private static func components(_ date: Date, offset: Int) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date.addingTimeInterval(TimeInterval(offset)))
        return (c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// A JQL date: `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd`, `yyyy-MM-dd` (local to `zone`, minute
    /// granular), or a period relative to `now` (`-5m`, `-2h`, `-1d`, `-1w`, `4w 2d`).
    static func parseJQL(_ text: String, in zone: TimeZone, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let relative = Self.parsePeriod(trimmed) { return now.addingTimeInterval(relative) }
        let parts = trimmed.split(separator: " ")
        guard (1...2).contains(parts.count) else { return nil }
        let date = parts[0].split(separator: parts[0].contains("/") ? "/" : "-", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == 4, let year = Int(date[0]), let month = Int(date[1]), let day = Int(date[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0
        var minute = 0
        if parts.count == 2 {
            let time = parts[1].split(separator: ":")
            guard time.count == 2, let h = Int(time[0]), let m = Int(time[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
            hour = h
            minute = m
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let result = calendar.date(from: components), calendar.component(.day, from: result) == day else { return nil }
        return result
    }

    /// `-5m`, `+2h`, `1d`, `-4w 2d` → seconds (negative into the past).
    static func parsePeriod(_ text: String) -> TimeInterval? {
        var rest = Substring(text)
        var sign = 1.0
        if rest.hasPrefix("-") {
            sign = -1
            rest = rest.dropFirst()
        } else if rest.hasPrefix("+") {
            rest = rest.dropFirst()
        }
        var total = 0.0
        var any = false
        for token in rest.split(separator: " ") {
            guard let unit = token.last, let count = Double(token.dropLast()) else { return nil }
            let seconds: Double
            switch unit {
            case "m": seconds = 60
            case "h": seconds = 3600
            case "d": seconds = 86_400
            case "w": seconds = 604_800
            default: return nil
            }
            total += count * seconds
            any = true
        }
        return any ? sign * total : nil
    }
}
