/// A point in time as whole microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// The journal never reads a clock itself: callers pass the time of each event (wall or virtual),
/// so a simulation writes the same bytes on every run.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// `seconds` after the epoch, saturating at the representable range.
    public init(seconds: Int64) {
        let (m, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        self.microseconds = overflow ? (seconds < 0 ? .min : .max) : m
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// `self` moved by a number of microseconds, saturating at the representable range (times
    /// computed from durations a client chose must not trap).
    public func adding(microseconds delta: Int64) -> Timestamp {
        let (m, overflow) = microseconds.addingReportingOverflow(delta)
        return Timestamp(microseconds: overflow ? (delta < 0 ? .min : .max) : m)
    }

    /// `self` moved by a number of seconds, saturating.
    public func adding(seconds: Int64) -> Timestamp {
        let (delta, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        return adding(microseconds: overflow ? (seconds < 0 ? .min : .max) : delta)
    }

    /// The microseconds from `self` to `later` (negative when `later` is earlier), saturating.
    public func microseconds(until later: Timestamp) -> Int64 {
        let (d, overflow) = later.microseconds.subtractingReportingOverflow(microseconds)
        return overflow ? (later.microseconds < microseconds ? .min : .max) : d
    }

    /// RFC 3339 in UTC with exactly six fractional digits: `2026-11-22T18:38:53.000123Z`.
    public var rfc3339: String { format(fractionDigits: 6) }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes prints `metav1.Time`: `2026-11-22T18:38:53Z`.
    public var rfc3339Seconds: String { format(fractionDigits: 0) }

    public var description: String { rfc3339 }

    private func format(fractionDigits: Int) -> String {
        let (secs, micros) = microseconds.floorDivided(by: 1_000_000)
        let (days, secOfDay) = secs.floorDivided(by: 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        s += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        if fractionDigits > 0 { s += "." + pad(micros, 6) }
        return s + "Z"
    }

    /// Parses RFC 3339 (`Z` or `±hh:mm` offset, 0–9 fractional digits; digits past the
    /// microsecond are truncated). Returns nil for anything else.
    public init?(rfc3339 text: some StringProtocol) {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<from + len {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32,
              let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58, let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in 0..<max(0, 6 - digits) { micros *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58,
                  let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Self.days(fromCivil: y, mo, d)
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset
        let microseconds = secs * 1_000_000 + micros
        // An offset can carry a time past year 9999 or before year 0000 in UTC, which `rfc3339` could
        // not print as a time this parser reads back.
        guard Self.printable.contains(microseconds) else { return nil }
        self.microseconds = microseconds
    }

    /// The instants whose UTC year has four digits (0000–9999): the times RFC 3339 can print.
    static let printable = (days(fromCivil: 0, 1, 1) * 86_400_000_000)..<(days(fromCivil: 10_000, 1, 1) * 86_400_000_000)

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

private func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    fileprivate func floorDivided(by d: Int64) -> (Int64, Int64) {
        let q = self / d
        let r = self % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}

extension Timestamp {
    /// A duration like `90s`, `5m`, `1h30m`, `2d` or `1s250ms` in microseconds; with `bareSeconds`,
    /// a trailing number without a unit counts as seconds (`1m30`). Nil for anything else,
    /// including a duration too long for the clock (more than about 292,000 years).
    public static func duration(_ s: String, bareSeconds: Bool = false) -> Int64? {
        var total: Int64 = 0, number: Int64 = 0, sawDigit = false
        func add(_ count: Int64, micros unit: Int64) -> Bool {
            let (micros, o1) = count.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(micros)
            total = sum
            return !(o1 || o2)
        }
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            if let d = c.wholeNumberValue, c.isASCII {
                let (n1, o1) = number.multipliedReportingOverflow(by: 10)
                let (n2, o2) = n1.addingReportingOverflow(Int64(d))
                guard !o1, !o2 else { return nil }
                number = n2
                sawDigit = true
                continue
            }
            guard sawDigit else { return nil }
            let unit: Int64
            switch c {
            case "m" where i < chars.count && chars[i] == "s":
                i += 1
                unit = 1000
            case "s": unit = 1_000_000
            case "m": unit = 60_000_000
            case "h": unit = 3_600_000_000
            case "d": unit = 86_400_000_000
            default: return nil
            }
            guard add(number, micros: unit) else { return nil }
            number = 0
            sawDigit = false
        }
        if sawDigit {
            guard bareSeconds, add(number, micros: 1_000_000) else { return nil }
        }
        return s.isEmpty || (!bareSeconds && total == 0) ? nil : total
    }
}
