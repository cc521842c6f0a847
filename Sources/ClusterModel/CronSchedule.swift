import Foundation

/// A CronJob's schedule, read as kube-controller-manager reads it (robfig/cron's standard parser):
/// five fields — minute, hour, day of month, month, day of week — each `*` (or `?`), a value, a
/// range `a-b`, a step `*/n`, `a-b/n` or `a/n`, or a list of those; month and weekday names
/// (`JAN`, `MON`); `7` is Sunday too; or one of `@yearly`, `@annually`, `@monthly`, `@weekly`,
/// `@daily`, `@midnight`, `@hourly`. When both day fields are restricted a day matches either, as
/// in cron.
public struct CronSchedule: Sendable, Equatable {
    /// A schedule that does not parse, in robfig/cron's words.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    var minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    /// Whether the day-of-month or day-of-week field was `*` (then the other alone decides).
    var anyDay: Bool, anyWeekday: Bool

    static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    static let dayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    public init(parsing text: String) throws(ParseError) {
        var spec = text.trimmingCharacters(in: .whitespaces)
        if spec.hasPrefix("@") {
            guard let expanded = Self.macros[spec.lowercased()] else { throw ParseError(description: "unrecognized descriptor: \(spec)") }
            spec = expanded
        }
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        minutes = try Self.field(fields[0], 0...59, [:])
        hours = try Self.field(fields[1], 0...23, [:])
        days = try Self.field(fields[2], 1...31, [:])
        months = try Self.field(fields[3], 1...12, Self.monthNames)
        weekdays = Set(try Self.field(fields[4], 0...7, Self.dayNames).map { $0 % 7 })
        anyDay = fields[2] == "*" || fields[2] == "?"
        anyWeekday = fields[4] == "*" || fields[4] == "?"
    }

    private static func field(_ text: String, _ bounds: ClosedRange<Int>, _ names: [String: Int]) throws(ParseError) -> Set<Int> {
        var values: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw ParseError(description: "too many slashes: \(part)") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw ParseError(description: "failed to parse int from \(pieces[1])") }
                step = s
            }
            func number(_ s: String) throws(ParseError) -> Int {
                if let n = Int(s) { return n }
                if let n = names[s.lowercased()] { return n }
                throw ParseError(description: "failed to parse int from \(s)")
            }
            let range: ClosedRange<Int>
            if pieces[0] == "*" || pieces[0] == "?" {
                range = bounds
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count <= 2 else { throw ParseError(description: "too many hyphens: \(pieces[0])") }
                let low = try number(ends[0])
                let high = ends.count == 2 ? try number(ends[1]) : (pieces.count == 2 ? bounds.upperBound : low)
                guard low >= bounds.lowerBound else { throw ParseError(description: "beginning of range (\(low)) below minimum (\(bounds.lowerBound)): \(part)") }
                guard high <= bounds.upperBound else { throw ParseError(description: "end of range (\(high)) above maximum (\(bounds.upperBound)): \(part)") }
                guard low <= high else { throw ParseError(description: "beginning of range (\(low)) beyond end of range (\(high)): \(part)") }
                range = low...high
            }
            values.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return values
    }

    /// The first time after `time` (whole minutes) that the schedule names, in `timeZone`; nil if
    /// none within five years (`30 2 31 2 *`).
    public func next(after time: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var t = Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = time.addingTimeInterval(5 * 366 * 86_400)
        while t <= limit {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: t)
            guard let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute, let weekday = c.weekday else { return nil }
            if !months.contains(month) {
                t = calendar.date(from: DateComponents(year: c.year, month: month + 1, day: 1)) ?? t.addingTimeInterval(86_400)
                continue
            }
            if !dayMatches(day: day, weekday: weekday - 1) {
                t = calendar.startOfDay(for: t.addingTimeInterval(86_400 + 3_600))
                continue
            }
            if !hours.contains(hour) {
                t = calendar.date(bySettingHour: hour, minute: 0, second: 0, of: t)!.addingTimeInterval(3_600)
                continue
            }
            if !minutes.contains(minute) {
                t = t.addingTimeInterval(60)
                continue
            }
            return t
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let d = days.contains(day), w = weekdays.contains(weekday)
        return anyDay || anyWeekday ? d && w : d || w
    }
}
