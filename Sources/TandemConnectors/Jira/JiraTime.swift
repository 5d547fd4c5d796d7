import Foundation

/// Jira's timestamps and JQL's time literals.
enum JiraTime {
    /// `2022-05-17T04:06:55.076-0700` (milliseconds, an offset without a colon; Foundation's ISO 8601 parser refuses
    /// it), also with `+07:00`, `Z`, or without the fraction.
    static func parse(_ text: String) -> Date? {
        let s = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= s.count else { return nil }
            var value = 0
            for c in s[from..<from + count] {
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard s.count >= 19, s[4] == 45, s[7] == 45, s[10] == 84 || s[10] == 32, s[13] == 58, s[16] == 58,
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < s.count, s[i] == 46 {
            i += 1
            var scale = 0.1
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                fraction += Double(s[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < s.count {
            if s[i] == 90, i + 1 == s.count {
                offset = 0
            } else if s[i] == 43 || s[i] == 45 {
                let sign = s[i] == 45 ? -1 : 1
                guard let hours = number(i + 1, 2) else { return nil }
                var j = i + 3
                if j < s.count, s[j] == 58 { j += 1 }
                guard let minutes = number(j, 2), j + 2 == s.count else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            } else {
                return nil
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61,
            let base = calendar.date(from: components)
        else { return nil }
        return Date(timeIntervalSince1970: base.timeIntervalSince1970 - Double(offset) + fraction)
    }

    /// `2022-05-17T11:06:55.076+0000`: how Jira writes a date-time field.
    static func format(_ date: Date) -> String {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        let whole = Date(timeIntervalSince1970: (millis / 1000).rounded(.down))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
        let ms = Int(millis.truncatingRemainder(dividingBy: 1000))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0,
            (ms + 1000) % 1000)
    }

    /// The version of an issue: its `updated`, in milliseconds.
    static func version(_ updated: Date) -> String { String(Int64((updated.timeIntervalSince1970 * 1000).rounded())) }

    /// A JQL time literal, `"2026/12/07 21:48"`: the minute at or before `date` on the wall clock of `zone` (the API
    /// user's profile zone, in which Jira reads JQL times). Flooring keeps every issue of that minute in the answer.
    static func jqlMinute(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "\"%04d/%02d/%02d %02d:%02d\"", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// The change feed's query: a project's issues updated at or after `from` (floored to its minute in `zone`), oldest
    /// change first. Without `from`: every issue of the project.
    static func feedJQL(project: String, from: Date?, zone: TimeZone) -> String {
        var jql = "project = \(self.quoted(project))"
        if let from { jql += " AND updated >= \(self.jqlMinute(from, in: zone))" }
        return jql + " ORDER BY updated ASC, key ASC"
    }

    /// A JQL string literal.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
