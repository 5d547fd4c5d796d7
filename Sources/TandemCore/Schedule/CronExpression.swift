public import Foundation

/// Why a schedule is invalid: the part at fault (a cron field, the whole expression, an interval) and the reason.
public struct ScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part at fault, e.g. `field 'day-of-week'` or `expression`.
    public var part: String
    /// What is wrong with it.
    public var reason: String

    public init(part: String, reason: String) {
        self.part = part
        self.reason = reason
    }

    public var description: String { "\(self.part): \(self.reason)" }
}

/// A Quartz cron expression (guide L7741–7770): `second minute hour day-of-month month day-of-week [year]`.
///
/// Supported as Quartz defines them: `*`, `?` (exactly one of day-of-month and day-of-week), lists, ranges (wrapping
/// ranges such as `FRI-MON` or `22-2` too), increments (`0/15`, `*/5`, `10-40/10`), month and weekday names
/// (`JAN`–`DEC`, `SUN`–`SAT`, SUN = 1), `L` (`L`, `L-3`, `LW` in day-of-month; `L`, `6L` in day-of-week), `W` (`15W`,
/// nearest weekday within the month) and `#` (`6#3`, the third Friday).
///
/// Next fire times are computed in wall-clock time of a time zone. Each wall-clock time fires at most once: a time that
/// occurs twice when clocks go back fires at its first occurrence; a time skipped when clocks go forward fires at the
/// transition instant, so a daily job is never lost on the day clocks change.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt64
    let months: UInt64
    let dayRule: DayRule
    /// Sorted years, or nil for every year.
    let years: [Int]?
    /// The expression as written, fields separated by single spaces, upper-cased.
    public let description: String

    /// Parses a Quartz cron expression; the error names the offending field and why Quartz would reject it.
    public init(_ text: String) throws(ScheduleError) {
        let tokens = text.uppercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard tokens.count == 6 || tokens.count == 7 else {
            throw ScheduleError(
                part: "expression",
                reason: "expected 6 or 7 fields (second minute hour day-of-month month day-of-week [year]), found \(tokens.count)"
            )
        }
        self.description = tokens.joined(separator: " ")
        self.seconds = try CronField.second.parseBits(tokens[0])
        self.minutes = try CronField.minute.parseBits(tokens[1])
        self.hours = try CronField.hour.parseBits(tokens[2])
        self.months = try CronField.month.parseBits(tokens[4])
        let dayOfMonth = tokens[3], dayOfWeek = tokens[5]
        switch (dayOfMonth == "?", dayOfWeek == "?") {
        case (true, true):
            throw ScheduleError(part: "expression", reason: "'?' may be given for day-of-month or day-of-week, not both")
        case (false, false):
            throw ScheduleError(
                part: "expression",
                reason: "exactly one of day-of-month ('\(dayOfMonth)') and day-of-week ('\(dayOfWeek)') must be '?'"
            )
        case (false, true):
            self.dayRule = try .dayOfMonth(DayOfMonthRule(parsing: dayOfMonth))
        case (true, false):
            self.dayRule = try .dayOfWeek(DayOfWeekRule(parsing: dayOfWeek))
        }
        if tokens.count == 7 {
            let bits = try CronField.year.parseValues(tokens[6])
            self.years = bits.sorted()
        } else {
            self.years = nil
        }
    }

    /// The first fire time strictly after `after`, in the wall-clock time of `timeZone`; nil if the expression never
    /// fires again (a past year, or a day that never exists such as 30 February).
    public func nextFire(after: Date, in timeZone: TimeZone) -> Date? {
        guard let start = CivilTime.seconds(after) else { return nil }
        var wall = start + Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(start))))
        // The calendar repeats every 400 years, so nothing found by then means never.
        var yearLimit = CivilTime(wall: wall).year + 401
        if let last = self.years?.last { yearLimit = min(yearLimit, last) }
        while let candidate = self.nextWallTime(after: wall, yearLimit: yearLimit) {
            let instant = WallClock.instant(forWall: candidate, in: timeZone)
            if instant > start { return Date(timeIntervalSince1970: Double(instant)) }
            wall = candidate
        }
        return nil
    }

    /// The next matching wall-clock time (seconds since 1970 as if the zone were UTC) strictly after `wall`.
    func nextWallTime(after wall: Int64, yearLimit: Int) -> Int64? {
        var time = CivilTime(wall: wall + 1)
        while time.year <= yearLimit {
            if let years = self.years, !years.contains(time.year) {
                guard let year = years.first(where: { $0 > time.year }) else { return nil }
                time = CivilTime(year: year, month: 1, day: 1)
                continue
            }
            guard let month = Bits.next(self.months, from: time.month) else {
                time = CivilTime(year: time.year + 1, month: 1, day: 1)
                continue
            }
            if month != time.month { time = CivilTime(year: time.year, month: month, day: 1) }
            guard let day = Bits.next(self.dayRule.days(year: time.year, month: time.month), from: time.day) else {
                time = time.month == 12 ? CivilTime(year: time.year + 1, month: 1, day: 1) : CivilTime(year: time.year, month: time.month + 1, day: 1)
                continue
            }
            if day != time.day { time = CivilTime(year: time.year, month: time.month, day: day) }
            guard let hour = Bits.next(self.hours, from: time.hour) else {
                time = CivilTime(wall: CivilTime(year: time.year, month: time.month, day: time.day).wall + 86_400)
                continue
            }
            if hour != time.hour {
                time.hour = hour
                time.minute = 0
                time.second = 0
            }
            guard let minute = Bits.next(self.minutes, from: time.minute) else {
                time = CivilTime(wall: time.wall - Int64(time.minute * 60 + time.second) + 3_600)
                continue
            }
            if minute != time.minute {
                time.minute = minute
                time.second = 0
            }
            guard let second = Bits.next(self.seconds, from: time.second) else {
                time = CivilTime(wall: time.wall - Int64(time.second) + 60)
                continue
            }
            time.second = second
            return time.wall
        }
        return nil
    }
}

extension CronExpression: Codable {
    /// Decodes from the expression's text; an invalid expression is a decoding error naming the reason.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// How a fixed schedule fires: every so many seconds, or by a Quartz cron expression (guide L7649–7770).
public enum Schedule: Sendable, Hashable, Codable {
    case interval(seconds: Int)
    case cron(CronExpression)

    /// The next fire time strictly after `after`: for an interval, `after` is the previous run.
    public func nextFire(after: Date, in timeZone: TimeZone) -> Date? {
        switch self {
        case .interval(let seconds): seconds > 0 ? after.addingTimeInterval(Double(seconds)) : nil
        case .cron(let expression): expression.nextFire(after: after, in: timeZone)
        }
    }

    /// Checks the schedule: an interval must be at least one second.
    public func validate() throws(ScheduleError) {
        if case .interval(let seconds) = self, seconds < 1 {
            throw ScheduleError(part: "interval", reason: "\(seconds) seconds is not a positive number of seconds")
        }
    }
}

// MARK: - Fields

enum CronField: Int, CaseIterable {
    case second, minute, hour, dayOfMonth, month, dayOfWeek, year

    var name: String {
        switch self {
        case .second: "second"
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        case .year: "year"
        }
    }

    var range: ClosedRange<Int> {
        switch self {
        case .second, .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 1...7
        case .year: 1970...2099
        }
    }

    var rangeText: String {
        switch self {
        case .month: "1-12 (or JAN-DEC)"
        case .dayOfWeek: "1-7 (or SUN-SAT)"
        default: "\(self.range.lowerBound)-\(self.range.upperBound)"
        }
    }

    var names: [String] {
        switch self {
        case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: []
        }
    }

    func error(_ reason: String) -> ScheduleError { ScheduleError(part: "field '\(self.name)'", reason: reason) }

    /// A single value: a number in range or (months, weekdays) a three-letter name.
    func value(_ token: Substring) throws(ScheduleError) -> Int {
        if let index = self.names.firstIndex(of: String(token)) { return index + 1 }
        guard !token.isEmpty, token.allSatisfy(\.isASCII), let number = Int(token) else {
            if token.isEmpty { throw self.error("a value is missing") }
            throw self.error("'\(token)' is not a number\(self.names.isEmpty ? "" : " or a name") in range \(self.rangeText)")
        }
        guard self.range.contains(number) else { throw self.error("'\(token)' is out of range \(self.rangeText)") }
        return number
    }

    /// All values of a list of `*`, values, ranges and increments.
    func parseValues(_ text: String) throws(ScheduleError) -> Set<Int> {
        if text == "?" { throw self.error("'?' may only be used in day-of-month or day-of-week") }
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            try values.formUnion(self.parseItem(item))
        }
        return values
    }

    func parseBits(_ text: String) throws(ScheduleError) -> UInt64 {
        try self.parseValues(text).reduce(0) { $0 | (1 << UInt64($1)) }
    }

    private func parseItem(_ item: Substring) throws(ScheduleError) -> [Int] {
        if item.isEmpty { throw self.error("an empty list item") }
        let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var step = 1
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else {
                throw self.error("increment '\(parts[1])' in '\(item)' is not a number")
            }
            let maxStep = self.range.count
            guard (1...maxStep).contains(value) else {
                throw self.error("increment \(value) in '\(item)' is out of range 1-\(maxStep)")
            }
            step = value
        }
        let base = parts[0]
        let low: Int, high: Int
        if base == "*" {
            (low, high) = (self.range.lowerBound, self.range.upperBound)
        } else if let dash = base.firstIndex(of: "-") {
            low = try self.value(base[..<dash])
            high = try self.value(base[base.index(after: dash)...])
        } else {
            low = try self.value(base)
            // `a/n` runs to the end of the range; a lone value is itself.
            high = parts.count == 2 ? self.range.upperBound : low
        }
        if high >= low { return Array(stride(from: low, through: high, by: step)) }
        guard self != .year else { throw self.error("range '\(base)' runs backwards") }
        // Quartz lets a range wrap past the end: `FRI-MON`, `22-2`.
        let span = self.range.count
        let length = high + span - low
        return stride(from: 0, through: length, by: step).map { (low + $0 - self.range.lowerBound) % span + self.range.lowerBound }
    }
}

/// Which days of a month fire: by day-of-month or by day-of-week (the other being `?`).
enum DayRule: Sendable, Hashable {
    case dayOfMonth(DayOfMonthRule)
    case dayOfWeek(DayOfWeekRule)

    /// Bits 1…31 of the days that fire in a month.
    func days(year: Int, month: Int) -> UInt64 {
        let count = CivilTime.daysIn(year: year, month: month)
        let all: UInt64 = ((1 << UInt64(count + 1)) - 1) & ~1
        switch self {
        case .dayOfMonth(.days(let bits)): return bits & all
        case .dayOfMonth(.last(let offset, let weekday)):
            let day = count - offset
            guard day >= 1 else { return 0 }
            return 1 << UInt64(weekday ? Self.nearestWeekday(to: day, year: year, month: month) : day)
        case .dayOfMonth(.nearestWeekday(let day)):
            guard day <= count else { return 0 }
            return 1 << UInt64(Self.nearestWeekday(to: day, year: year, month: month))
        case .dayOfWeek(let rule):
            let firstWeekday = CivilTime.weekday(year: year, month: month, day: 1)
            var bits: UInt64 = 0
            switch rule {
            case .days(let weekdays):
                for day in 1...count where weekdays & (1 << UInt64((firstWeekday - 1 + day - 1) % 7 + 1)) != 0 {
                    bits |= 1 << UInt64(day)
                }
            case .last(let weekday):
                let lastWeekday = (firstWeekday - 1 + count - 1) % 7 + 1
                bits = 1 << UInt64(count - (lastWeekday - weekday + 7) % 7)
            case .nth(let weekday, let n):
                let day = 1 + (weekday - firstWeekday + 7) % 7 + (n - 1) * 7
                if day <= count { bits = 1 << UInt64(day) }
            }
            return bits
        }
    }

    /// The weekday nearest to `day` without leaving the month (Quartz `W`).
    static func nearestWeekday(to day: Int, year: Int, month: Int) -> Int {
        let count = CivilTime.daysIn(year: year, month: month)
        switch CivilTime.weekday(year: year, month: month, day: day) {
        case 7: return day == 1 ? 3 : day - 1
        case 1: return day == count ? day - 2 : day + 1
        default: return day
        }
    }
}

enum DayOfMonthRule: Sendable, Hashable {
    /// Bits 1…31.
    case days(UInt64)
    /// `L`, `L-n`, `LW`, `L-nW`.
    case last(offset: Int, weekday: Bool)
    /// `nW`.
    case nearestWeekday(Int)

    init(parsing text: String) throws(ScheduleError) {
        let field = CronField.dayOfMonth
        if text.hasPrefix("L") {
            var rest = text.dropFirst()
            let weekday = rest.hasSuffix("W")
            if weekday { rest = rest.dropLast() }
            var offset = 0
            if rest.hasPrefix("-") {
                guard let value = Int(rest.dropFirst()), (0...30).contains(value) else {
                    throw field.error("offset in '\(text)' must be a number 0-30")
                }
                offset = value
            } else if !rest.isEmpty {
                throw field.error("'\(text)' is not L, L-n, LW or L-nW (and 'L' cannot be combined with other days)")
            }
            self = .last(offset: offset, weekday: weekday)
        } else if text.hasSuffix("W") {
            let day = text.dropLast()
            guard !day.contains(","), !day.contains("-"), !day.contains("/"), !day.contains("*") else {
                throw field.error("'W' takes a single day, not '\(day)'")
            }
            self = .nearestWeekday(try field.value(day))
        } else if text.contains("L") || text.contains("W") || text.contains("#") {
            throw field.error("'\(text)': 'L' and 'W' cannot be combined with other days, and '#' is for day-of-week")
        } else {
            self = .days(try field.parseBits(text))
        }
    }
}

enum DayOfWeekRule: Sendable, Hashable {
    /// Bits 1…7, SUN = 1.
    case days(UInt64)
    /// `nL`: the last such weekday of the month.
    case last(Int)
    /// `n#k`: the k-th such weekday of the month.
    case nth(Int, Int)

    init(parsing text: String) throws(ScheduleError) {
        let field = CronField.dayOfWeek
        if text == "L" {
            self = .days(1 << 7)
        } else if let hash = text.firstIndex(of: "#") {
            let weekday = try field.value(text[..<hash])
            guard let n = Int(text[text.index(after: hash)...]), (1...5).contains(n) else {
                throw field.error("in '\(text)' the number after '#' must be 1-5")
            }
            self = .nth(weekday, n)
        } else if text.hasSuffix("L") {
            let day = text.dropLast()
            guard !day.contains(","), !day.contains("-"), !day.contains("/"), !day.contains("*") else {
                throw field.error("'L' takes a single weekday, not '\(day)'")
            }
            self = .last(try field.value(day))
        } else if text.contains("L") || text.contains("W") {
            throw field.error("'\(text)': 'L' cannot be combined with other days, and 'W' is for day-of-month")
        } else {
            self = .days(try field.parseBits(text))
        }
    }
}

enum Bits {
    /// The lowest set bit at or above `from`.
    static func next(_ bits: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let masked = bits & ~((1 << UInt64(from)) &- 1)
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }
}

// MARK: - Civil time

/// A proleptic Gregorian date and time of day, without a zone.
struct CivilTime: Hashable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// From seconds since 1970-01-01T00:00:00 (of the wall clock).
    init(wall: Int64) {
        let days = wall >= 0 ? wall / 86_400 : (wall - 86_399) / 86_400
        let seconds = Int(wall - days * 86_400)
        (self.year, self.month, self.day) = Self.civil(fromDays: Int(days))
        self.hour = seconds / 3_600
        self.minute = seconds / 60 % 60
        self.second = seconds % 60
    }

    var wall: Int64 {
        Int64(Self.days(year: self.year, month: self.month, day: self.day)) * 86_400 + Int64(self.hour * 3_600 + self.minute * 60 + self.second)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
    static func iso8601(_ date: Date) -> String {
        guard let seconds = Self.seconds(date) else { return "" }
        let t = CivilTime(wall: seconds)
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(LocalDate(year: t.year, month: t.month, day: t.day))T\(pad(t.hour)):\(pad(t.minute)):\(pad(t.second))Z"
    }

    /// Whole seconds since 1970 of a date within ±7,900 years of 1970, else nil (no trap on odd input).
    static func seconds(_ date: Date) -> Int64? {
        let raw = date.timeIntervalSince1970.rounded(.down)
        guard raw.isFinite, abs(raw) < 2.5e11 else { return nil }
        return Int64(raw)
    }

    /// Whether a date's parts can be converted without overflow.
    static func isReasonable(_ date: LocalDate) -> Bool {
        (-9_999...99_999).contains(date.year) && (1...12).contains(date.month) && (1...31).contains(date.day)
    }

    /// Days since 1970-01-01 (H. Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// 1 = Sunday … 7 = Saturday, as Quartz numbers them.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        let days = Self.days(year: year, month: month, day: day)
        // 1970-01-01 was a Thursday (5).
        return ((days % 7 + 7) % 7 + 4) % 7 + 1
    }
}

/// Conversions between wall-clock time in a zone and instants.
enum WallClock {
    static func offset(_ instant: Int64, _ zone: TimeZone) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// The instant a wall-clock time names: the first of two when clocks go back, the transition when it was skipped.
    static func instant(forWall wall: Int64, in zone: TimeZone) -> Int64 {
        let before = self.offset(wall - 86_400, zone)
        let after = self.offset(wall + 86_400, zone)
        // A larger offset means an earlier instant; try it first.
        for candidate in [max(before, after), min(before, after)] where self.offset(wall - candidate, zone) == candidate {
            return wall - candidate
        }
        // Skipped: find the transition between the two readings.
        var low = wall - max(before, after)
        var high = wall - min(before, after)
        if self.offset(low, zone) == self.offset(high, zone) { return wall - before }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if self.offset(middle, zone) == self.offset(low, zone) { low = middle } else { high = middle }
        }
        return high
    }
}
