import Foundation

/// A Kubernetes resource quantity (`500m`, `2`, `128Mi`, `1Gi`, `1G`, `100k`, `1e3`), held exactly
/// as an integer number of milli-units, so arithmetic has no floating-point drift.
///
/// Parsing accepts Kubernetes' forms: a decimal number (with at most three fractional digits
/// after scaling to milli-units), then an optional suffix: binary `Ki Mi Gi Ti Pi Ei`, decimal
/// `m k M G T P E`, or an exponent `e3`/`E-3`. The canonical form printed is Kubernetes': the
/// original family of suffix (binary or decimal) with the largest suffix that keeps the number whole.
public struct Quantity: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Format: Sendable { case binarySI, decimalSI, decimalExponent }

    /// The value in thousandths of a unit (`500m` → 500, `1` → 1000, `1Ki` → 1_024_000).
    public private(set) var milli: Int64
    public private(set) var format: Format

    public init(milli: Int64, format: Format = .decimalSI) {
        self.milli = milli
        self.format = format
    }

    /// A whole number of units (cores, bytes, pods).
    public init(_ units: Int64, format: Format = .decimalSI) {
        self.init(milli: units * 1000, format: format)
    }

    public static let zero = Quantity(milli: 0)

    public static func < (a: Quantity, b: Quantity) -> Bool { a.milli < b.milli }
    public static func == (a: Quantity, b: Quantity) -> Bool { a.milli == b.milli }
    public func hash(into h: inout Hasher) { h.combine(milli) }

    public static func + (a: Quantity, b: Quantity) -> Quantity { Quantity(milli: a.milli + b.milli, format: a.format) }
    public static func - (a: Quantity, b: Quantity) -> Quantity { Quantity(milli: a.milli - b.milli, format: a.format) }

    /// The value rounded up to whole units (Kubernetes' `Value()`).
    public var value: Int64 { milli >= 0 ? (milli + 999) / 1000 : milli / 1000 }

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
            let e = Array(suffix.utf8)
            guard e.count >= 2, e[0] == UInt8(ascii: "e") || e[0] == UInt8(ascii: "E"),
                  let exp = Int(String(decoding: e[1...], as: UTF8.self)), abs(exp) <= 30
            else { throw ParseError(text: text) }
            decimalPower += exp
            format = .decimalExponent
        }
        decimalPower -= fractionDigits
        // Exact integer arithmetic; a value finer than a milli-unit is rounded up, as Kubernetes does.
        var magnitude: Int64 = 0
        var overflow = false
        for d in digits {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(Int64(d))
            magnitude = m2
            overflow = overflow || o1 || o2
        }
        for _ in 0..<binaryPower {
            let (m, o) = magnitude.multipliedReportingOverflow(by: 1024)
            magnitude = m
            overflow = overflow || o
        }
        if decimalPower >= 0 {
            for _ in 0..<decimalPower {
                let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
                magnitude = m
                overflow = overflow || o
            }
        } else {
            var divisor: Int64 = 1
            for _ in 0..<(-decimalPower) where divisor < Int64.max / 10 { divisor *= 10 }
            magnitude = (magnitude + divisor - 1) / divisor
        }
        guard !overflow else { throw ParseError(text: text) }
        self.milli = negative ? -magnitude : magnitude
        self.format = format
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

    private static func decimal(_ units: UInt64) -> String {
        let suffixes = ["", "k", "M", "G", "T", "P", "E"]
        var v = units, i = 0
        while v % 1000 == 0, i < suffixes.count - 1, v > 0 { v /= 1000; i += 1 }
        return "\(v)\(suffixes[i])"
    }
}

extension Quantity: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) {
            self.init(i)
        } else if let d = try? c.decode(Double.self) {
            self.init(milli: Int64((d * 1000).rounded(.up)))
        } else {
            let s = try c.decode(String.self)
            do {
                try self.init(parsing: s)
            } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Invalid value: \"\(s)\": \(error)"))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
