import Foundation

/// A Kubernetes resource quantity (`500m`, `2`, `128Mi`, `1Gi`, `1G`, `100k`, `1e3`), held exactly
/// as an integer number of milli-units, so arithmetic has no floating-point drift.
///
/// Parsing accepts Kubernetes' forms: a decimal number, then an optional suffix: binary
/// `Ki Mi Gi Ti Pi Ei`, decimal `n u m k M G T P E`, or an exponent `e3`/`E-3`. A value finer than a
/// milli-unit is rounded up (away from zero). The canonical form printed is Kubernetes': the
/// original family of suffix (binary or decimal) with the largest suffix that keeps the number whole.
///
/// **Bounds.** Like apimachinery's `ParseQuantity`, a quantity is capped at ±(2⁶³ − 1) units
/// (`Quantity.maxUnits`): larger values — `1e308`, a 40-digit number — are accepted and held as the
/// cap. Milli-units are kept in an `Int128`, so every quantity, and every sum of up to 2⁶⁴ of them,
/// is exact; `+` and `-` saturate at the cap rather than trap. Code that needs a machine integer
/// reads `value` (whole units, rounded up, always within `Int64`) or `milliSaturated`.
public struct Quantity: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Format: Sendable { case binarySI, decimalSI, decimalExponent }

    /// The largest magnitude a quantity holds, in units: apimachinery's `maxAllowed` (2⁶³ − 1).
    public static let maxUnits = Int128(Int64.max)
    /// The largest magnitude in milli-units.
    public static let maxMilli = maxUnits * 1000

    /// The value in thousandths of a unit (`500m` → 500, `1` → 1000, `1Ki` → 1_024_000), within
    /// ±`maxMilli`.
    public private(set) var milli: Int128
    public private(set) var format: Format

    /// A quantity of `milli` thousandths of a unit, capped at ±`maxMilli`.
    public init(milli: Int128, format: Format = .decimalSI) {
        self.milli = Self.capped(milli)
        self.format = format
    }

    /// A whole number of units (cores, bytes, pods).
    public init(_ units: Int64, format: Format = .decimalSI) {
        self.init(milli: Int128(units) * 1000, format: format)
    }

    /// A whole number of units, capped at ±`maxUnits` (sums of quantities, for printing).
    public init(units: Int128, format: Format = .decimalSI) {
        self.init(milli: min(max(units, -Self.maxUnits), Self.maxUnits) * 1000, format: format)
    }

    public static let zero = Quantity(milli: Int128(0))

    public static func < (a: Quantity, b: Quantity) -> Bool { a.milli < b.milli }
    public static func == (a: Quantity, b: Quantity) -> Bool { a.milli == b.milli }
    public func hash(into h: inout Hasher) { h.combine(milli) }

    /// The sum, saturating at the cap.
    public static func + (a: Quantity, b: Quantity) -> Quantity { Quantity(milli: a.milli + b.milli, format: a.format) }
    /// The difference, saturating at the cap.
    public static func - (a: Quantity, b: Quantity) -> Quantity { Quantity(milli: a.milli - b.milli, format: a.format) }

    /// The value rounded up to whole units (Kubernetes' `Value()`); always within `Int64`.
    public var value: Int64 {
        let units = milli >= 0 ? (milli + 999) / 1000 : milli / 1000
        return Int64(units)
    }

    /// The milli-units clamped to `Int64` (±9.2 × 10¹⁵ units): Kubernetes' `MilliValue()` for every
    /// quantity a real cluster holds.
    public var milliSaturated: Int64 { Int64(clamping: milli) }

    private static func capped(_ m: Int128) -> Int128 { min(max(m, -maxMilli), maxMilli) }

    /// Parse errors say what a quantity must look like, as Kubernetes does.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String {
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let s = text.trimmingCharacters(in: .whitespaces)
        var chars = Array(s.utf8)
        guard !chars.isEmpty else { throw ParseError(text: text) }
        var negative = false
        if chars[0] == UInt8(ascii: "+") || chars[0] == UInt8(ascii: "-") {
            negative = chars[0] == UInt8(ascii: "-")
            chars.removeFirst()
        }
        var i = 0
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while i < chars.count, (chars[i] >= 48 && chars[i] <= 57) || chars[i] == UInt8(ascii: ".") {
            if chars[i] == UInt8(ascii: ".") {
                guard !seenPoint else { throw ParseError(text: text) }
                seenPoint = true
            } else {
                digits.append(chars[i] - 48)
                if seenPoint { fractionDigits += 1 }
            }
            i += 1
        }
        guard !digits.isEmpty else { throw ParseError(text: text) }
        let suffix = String(decoding: chars[i...], as: UTF8.self)
        // value = digits × 10^(-fractionDigits) × multiplier; in milli-units: × 1000.
        var binaryPower = 0   // × 1024^binaryPower
        var decimalPower = 3  // × 10^decimalPower (3 for milli-units)
        var format = Format.decimalSI
        switch suffix {
        case "": break
        case "Ki": binaryPower = 1; format = .binarySI
        case "Mi": binaryPower = 2; format = .binarySI
        case "Gi": binaryPower = 3; format = .binarySI
        case "Ti": binaryPower = 4; format = .binarySI
        case "Pi": binaryPower = 5; format = .binarySI
        case "Ei": binaryPower = 6; format = .binarySI
        case "n": decimalPower -= 9
        case "u": decimalPower -= 6
        case "m": decimalPower -= 3
        case "k": decimalPower += 3
        case "M": decimalPower += 6
        case "G": decimalPower += 9
        case "T": decimalPower += 12
        case "P": decimalPower += 15
        case "E": decimalPower += 18
        default:
            // An exponent fits in 32 bits, as apimachinery parses it.
            let e = Array(suffix.utf8)
            guard e.count >= 2, e[0] == UInt8(ascii: "e") || e[0] == UInt8(ascii: "E"),
                  let exp = Int32(String(decoding: e[1...], as: UTF8.self))
            else { throw ParseError(text: text) }
            decimalPower += Int(exp)
            format = .decimalExponent
        }
        decimalPower -= fractionDigits
        self.init(milli: Self.magnitude(digits: digits, binaryPower: binaryPower, decimalPower: decimalPower) * (negative ? -1 : 1), format: format)
    }

    /// digits × 1024^binaryPower × 10^decimalPower in milli-units, exact up to the cap and
    /// saturating beyond it; a non-zero value finer than one milli-unit rounds up.
    ///
    /// Exact for up to 37 significant digits (20 with a binary suffix); further digits only round
    /// up. Every quantity within the cap has fewer (the cap itself has 22 digits in milli-units).
    private static func magnitude(digits: [UInt8], binaryPower: Int, decimalPower: Int) -> Int128 {
        let significant = digits.drop { $0 == 0 }
        guard !significant.isEmpty else { return 0 }
        // At least 10^(count - 1 + power) × 1000^binaryPower milli-units: past the cap (< 10^22)?
        if significant.count - 1 + decimalPower + 3 * binaryPower >= 22 { return maxMilli }
        let kept = min(significant.count, binaryPower == 0 ? 37 : 20)
        var m: Int128 = 0
        for d in significant.prefix(kept) { m = m * 10 + Int128(d) }
        let dropped = significant.count - kept
        var inexact = significant.dropFirst(kept).contains { $0 != 0 }
        for _ in 0..<binaryPower { m *= 1024 }
        var power = decimalPower + dropped
        while power > 0, m <= maxMilli { m *= 10; power -= 1 }
        while power < 0, m > 0 {
            inexact = inexact || m % 10 != 0
            m /= 10
            power += 1
        }
        return min(m + (inexact ? 1 : 0), maxMilli)
    }

    /// Canonical text: `500m`, `2`, `128Mi`, `1G`, `1500m` …
    public var description: String {
        if milli == 0 { return "0" }
        let sign = milli < 0 ? "-" : ""
        let m = milli.magnitude
        if m % 1000 != 0 { return sign + "\(m)m" }
        let units = m / 1000
        switch format {
        case .binarySI:
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            var v = units, i = 0
            while v % 1024 == 0, i < suffixes.count - 1, v > 0 { v /= 1024; i += 1 }
            // Kubernetes prints binary quantities below 1Ki, or not a whole number of Ki, in decimal.
            if i == 0 { return sign + Self.decimal(units) }
            return sign + "\(v)\(suffixes[i])"
        case .decimalSI, .decimalExponent:
            return sign + Self.decimal(units)
        }
    }

    private static func decimal(_ units: UInt128) -> String {
        let suffixes = ["", "k", "M", "G", "T", "P", "E"]
        var v = units, i = 0
        while v % 1000 == 0, i < suffixes.count - 1, v > 0 { v /= 1000; i += 1 }
        return "\(v)\(suffixes[i])"
    }
}

extension Quantity: Codable {
    /// Decodes a string in Kubernetes' syntax, or — as apimachinery's `UnmarshalJSON` accepts — a
    /// bare JSON number, read as the same text.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text: String
        if let i = try? c.decode(Int64.self) {
            self.init(i)
            return
        } else if let d = try? c.decode(Double.self) {
            // Swift prints the shortest text that reads back as `d`: `1e+308`, `0.25`, `1.5e-07`.
            text = "\(d)"
        } else {
            text = try c.decode(String.self)
        }
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Invalid value: \"\(text)\": \(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
