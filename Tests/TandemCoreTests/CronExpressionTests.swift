import Foundation
import PropertyBased
import TandemCore
import Testing

/// Parses `yyyy-MM-dd HH:mm:ss` as wall-clock time in a zone (test helper; independent of the core's own arithmetic).
func wallDate(_ text: String, _ zone: String = "UTC") -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: zone)!
    let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" }).map { Int($0)! }
    let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
    return calendar.date(from: components)!
}

/// Formats a date as `yyyy-MM-dd HH:mm:ss` in a zone.
func wallText(_ date: Date?, _ zone: String = "UTC") -> String {
    guard let date else { return "never" }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: zone)!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
}

@Suite("Quartz cron expressions")
struct CronExpressionTests {
    struct FireCase: Sendable, CustomTestStringConvertible {
        var expression: String
        var after: String
        var expected: [String]
        var zone = "UTC"
        var testDescription: String { "\(self.expression) after \(self.after)" }
    }

    static let fireCases: [FireCase] = [
        // Guide L7766: every 30 minutes 9:00–17:00 Monday to Friday. 2024-05-03 is a Friday.
        FireCase(
            expression: "0 0/30 9-16 ? * MON-FRI", after: "2024-05-03 16:10:00",
            expected: ["2024-05-03 16:30:00", "2024-05-06 09:00:00", "2024-05-06 09:30:00"]
        ),
        FireCase(expression: "0 0 12 * * ?", after: "2024-01-01 12:00:00", expected: ["2024-01-02 12:00:00"]),
        FireCase(expression: "*/20 * * * * ?", after: "2024-01-01 00:00:50", expected: ["2024-01-01 00:01:00", "2024-01-01 00:01:20"]),
        FireCase(expression: "0 15 10 ? * 6L", after: "2024-01-01 00:00:00", expected: ["2024-01-26 10:15:00", "2024-02-23 10:15:00"]),
        FireCase(expression: "0 15 10 ? * 6#3", after: "2024-01-01 00:00:00", expected: ["2024-01-19 10:15:00", "2024-02-16 10:15:00"]),
        FireCase(expression: "0 15 10 L * ?", after: "2024-01-31 10:15:00", expected: ["2024-02-29 10:15:00", "2024-03-31 10:15:00"]),
        FireCase(expression: "0 0 0 L-2 * ?", after: "2023-02-01 00:00:00", expected: ["2023-02-26 00:00:00", "2023-03-29 00:00:00"]),
        // 2024-06-15 is a Saturday: nearest weekday Friday 14th; 2024-09-15 a Sunday: Monday 16th.
        FireCase(expression: "0 0 0 15W * ?", after: "2024-06-01 00:00:00", expected: ["2024-06-14 00:00:00", "2024-07-15 00:00:00"]),
        FireCase(expression: "0 0 0 15W * ?", after: "2024-09-01 00:00:00", expected: ["2024-09-16 00:00:00"]),
        // 2022-10-01 is a Saturday: 1W does not leave the month, so Monday the 3rd.
        FireCase(expression: "0 0 0 1W * ?", after: "2022-09-30 00:00:00", expected: ["2022-10-03 00:00:00"]),
        // Last weekday: 2024-03-31 is a Sunday, so Friday the 29th.
        FireCase(expression: "0 0 0 LW * ?", after: "2024-03-01 00:00:00", expected: ["2024-03-29 00:00:00", "2024-04-30 00:00:00"]),
        FireCase(expression: "0 0 0 ? * L", after: "2024-01-01 00:00:00", expected: ["2024-01-06 00:00:00"]),
        FireCase(
            expression: "0 0 22-2 * * ?", after: "2024-01-01 21:00:00",
            expected: ["2024-01-01 22:00:00", "2024-01-01 23:00:00", "2024-01-02 00:00:00"]),
        FireCase(
            expression: "0 0 0 ? * FRI-MON", after: "2024-01-03 00:00:00",
            expected: ["2024-01-05 00:00:00", "2024-01-06 00:00:00", "2024-01-07 00:00:00", "2024-01-08 00:00:00", "2024-01-12 00:00:00"]),
        FireCase(expression: "0 0 0 29 2 ?", after: "2024-03-01 00:00:00", expected: ["2028-02-29 00:00:00"]),
        FireCase(
            expression: "0 0 0 1 JAN,jul ? 2025", after: "2024-03-01 00:00:00", expected: ["2025-01-01 00:00:00", "2025-07-01 00:00:00", "never"]),
        FireCase(expression: "0 0 0 30 2 ?", after: "2024-03-01 00:00:00", expected: ["never"]),
        FireCase(expression: "0 10-40/10 * * * ?", after: "2024-01-01 00:35:00", expected: ["2024-01-01 00:40:00", "2024-01-01 01:10:00"]),
        FireCase(expression: "0 0 0 ? * 2#5", after: "2024-01-01 00:00:00", expected: ["2024-01-29 00:00:00", "2024-04-29 00:00:00"]),
        // Europe/Berlin springs forward 2024-03-31 02:00 → 03:00: 02:30 fires at the transition, once.
        FireCase(
            expression: "0 30 2 * * ?", after: "2024-03-30 03:00:00",
            expected: ["2024-03-31 03:00:00", "2024-04-01 02:30:00"], zone: "Europe/Berlin"
        ),
        // Berlin falls back 2024-10-27 03:00 → 02:00: 02:30 fires once, at its first occurrence.
        FireCase(
            expression: "0 30 2 * * ?", after: "2024-10-26 03:00:00",
            expected: ["2024-10-27 02:30:00", "2024-10-28 02:30:00"], zone: "Europe/Berlin"
        ),
        FireCase(
            expression: "0 0 9 ? * MON-FRI", after: "2024-11-01 10:00:00",
            expected: ["2024-11-04 09:00:00"], zone: "America/New_York"
        ),
    ]

    @Test(arguments: fireCases)
    func fires(_ c: FireCase) throws {
        let cron = try CronExpression(c.expression)
        let zone = TimeZone(identifier: c.zone)!
        var after: Date? = wallDate(c.after, c.zone)
        var fired: [String] = []
        for _ in c.expected {
            after = after.flatMap { cron.nextFire(after: $0, in: zone) }
            fired.append(wallText(after, c.zone))
        }
        #expect(fired == c.expected)
    }

    @Test func fallBackFiresOnceInRealTime() throws {
        let cron = try CronExpression("0 30 2 * * ?")
        let zone = TimeZone(identifier: "Europe/Berlin")!
        let first = try #require(cron.nextFire(after: wallDate("2024-10-27 00:00:00", "Europe/Berlin"), in: zone))
        #expect(first.timeIntervalSince1970 == wallDate("2024-10-27 00:30:00").timeIntervalSince1970)  // 02:30 CEST
        // Asked again from the second 02:10 (CET), it does not fire at the second 02:30.
        let second = try #require(cron.nextFire(after: Date(timeIntervalSince1970: wallDate("2024-10-27 01:10:00").timeIntervalSince1970), in: zone))
        #expect(wallText(second, "Europe/Berlin") == "2024-10-28 02:30:00")
    }

    struct RejectCase: Sendable, CustomTestStringConvertible {
        var expression: String
        var message: String
        var testDescription: String { self.expression }
    }

    static let rejectCases: [RejectCase] = [
        RejectCase(expression: "0 0 12 ? * 8", message: "field 'day-of-week': '8' is out of range 1-7 (or SUN-SAT)"),
        RejectCase(expression: "0 0 12 * * MON", message: "expression: exactly one of day-of-month ('*') and day-of-week ('MON') must be '?'"),
        RejectCase(expression: "0 0 12 ? * ?", message: "expression: '?' may be given for day-of-month or day-of-week, not both"),
        RejectCase(
            expression: "0 0 12 * *",
            message: "expression: expected 6 or 7 fields (second minute hour day-of-month month day-of-week [year]), found 5"),
        RejectCase(expression: "60 0 12 * * ?", message: "field 'second': '60' is out of range 0-59"),
        RejectCase(expression: "0 0 24 * * ?", message: "field 'hour': '24' is out of range 0-23"),
        RejectCase(expression: "0 0 0 32 * ?", message: "field 'day-of-month': '32' is out of range 1-31"),
        RejectCase(expression: "0 0 0 1 13 ?", message: "field 'month': '13' is out of range 1-12 (or JAN-DEC)"),
        RejectCase(expression: "0 0 0 1 FOO ?", message: "field 'month': 'FOO' is not a number or a name in range 1-12 (or JAN-DEC)"),
        RejectCase(expression: "0 0/0 * * * ?", message: "field 'minute': increment 0 in '0/0' is out of range 1-60"),
        RejectCase(expression: "0 0/x * * * ?", message: "field 'minute': increment 'X' in '0/X' is not a number"),
        RejectCase(expression: "? 0 0 * * ?", message: "field 'second': '?' may only be used in day-of-month or day-of-week"),
        RejectCase(expression: "0 0 0 ? * 6#6", message: "field 'day-of-week': in '6#6' the number after '#' must be 1-5"),
        RejectCase(
            expression: "0 0 0 1,L * ?",
            message: "field 'day-of-month': '1,L': 'L' and 'W' cannot be combined with other days, and '#' is for day-of-week"),
        RejectCase(expression: "0 0 0 1-5W * ?", message: "field 'day-of-month': 'W' takes a single day, not '1-5'"),
        RejectCase(expression: "0 0 0 L-40 * ?", message: "field 'day-of-month': offset in 'L-40' must be a number 0-30"),
        RejectCase(
            expression: "0 0 0 LX * ?", message: "field 'day-of-month': 'LX' is not L, L-n, LW or L-nW (and 'L' cannot be combined with other days)"),
        RejectCase(expression: "0 0 0 ? * 1-3L", message: "field 'day-of-week': 'L' takes a single weekday, not '1-3'"),
        RejectCase(
            expression: "0 0 0 ? * 1,LW", message: "field 'day-of-week': '1,LW': 'L' cannot be combined with other days, and 'W' is for day-of-month"),
        RejectCase(expression: "0 0 0 1 * ? 2100", message: "field 'year': '2100' is out of range 1970-2099"),
        RejectCase(expression: "0 0 0 1 * ? 2030-2025", message: "field 'year': range '2030-2025' runs backwards"),
        RejectCase(expression: "0 0,,1 0 1 * ?", message: "field 'minute': an empty list item"),
        RejectCase(expression: "0 -5 0 1 * ?", message: "field 'minute': a value is missing"),
    ]

    @Test(arguments: rejectCases)
    func rejects(_ c: RejectCase) {
        #expect(throws: ScheduleError.self) { try CronExpression(c.expression) }
        do {
            _ = try CronExpression(c.expression)
        } catch {
            #expect(error.description == c.message)
        }
    }

    @Test func descriptionIsNormalised() throws {
        #expect(try CronExpression("  0 0/30  9-16 ? * mon-fri ").description == "0 0/30 9-16 ? * MON-FRI")
        #expect(try CronExpression("0 0 12 * * ?") == CronExpression("0  0 12 * * ?"))
    }

    @Test func schedules() throws {
        let start = wallDate("2024-01-01 00:00:00")
        #expect(Schedule.interval(seconds: 300).nextFire(after: start, in: .gmt) == start.addingTimeInterval(300))
        #expect(Schedule.interval(seconds: 0).nextFire(after: start, in: .gmt) == nil)
        #expect(throws: ScheduleError(part: "interval", reason: "0 seconds is not a positive number of seconds")) {
            try Schedule.interval(seconds: 0).validate()
        }
        try Schedule.interval(seconds: 1).validate()
        let cron = Schedule.cron(try CronExpression("0 0 * * * ?"))
        try cron.validate()
        #expect(cron.nextFire(after: start, in: .gmt) == start.addingTimeInterval(3600))
    }

    static let expressions = [
        "0 0/30 9-16 ? * MON-FRI", "*/7 * * * * ?", "0 0 0 L * ?", "0 0 0 15W * ?", "0 0 0 ? * 6L", "0 0 0 ? * 2#2",
        "0 30 2 * * ?", "0 0 22-2 * * ?", "30 15 1,2,3 * * ?", "0 0 0 LW * ?",
    ]

    @Test func nextFireIsStrictlyIncreasing() async throws {
        let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
        await propertyCheck(
            count: 200,
            input: Gen.element(of: Self.expressions), Gen.element(of: zones), Gen.int(in: 946_684_800...2_000_000_000)
        ) { text, zoneName, seconds in
            guard let cron = try? CronExpression(text!), let zone = TimeZone(identifier: zoneName!) else {
                Issue.record("bad input")
                return
            }
            var previous = Date(timeIntervalSince1970: Double(seconds))
            for _ in 0..<20 {
                guard let next = cron.nextFire(after: previous, in: zone) else { break }
                #expect(next > previous)
                previous = next
            }
        }
    }
}
