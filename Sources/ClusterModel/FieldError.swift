/// One validation failure, worded as Kubernetes words it (`field.Error`).
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case required, invalid, duplicate, notSupported([String]), forbidden, tooLong(Int), tooMany(Int)
    }

    public var kind: Kind
    /// `spec.containers[0].image`
    public var field: String
    /// The offending value as Kubernetes prints it (`"Bad_Name"`, `-1`), if any.
    public var value: String?
    public var detail: String

    public init(_ kind: Kind, _ field: String, value: String? = nil, _ detail: String = "") {
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
    }

    /// A quoted string value: `"Bad_Name"`.
    public static func quoted(_ s: String) -> String { JSONValue.string(s).jsonString }

    public var description: String {
        var s = "\(field): "
        switch kind {
        case .required: s += "Required value"
        case .invalid: s += "Invalid value"
        case .duplicate: s += "Duplicate value"
        case .notSupported: s += "Unsupported value"
        case .forbidden: s += "Forbidden"
        case .tooLong: s += "Too long"
        case .tooMany: s += "Too many"
        }
        if let value, kind != .required, kind != .forbidden { s += ": \(value)" }
        switch kind {
        case .notSupported(let supported):
            s += ": supported values: " + supported.map(Self.quoted).joined(separator: ", ")
        case .tooLong(let max) where detail.isEmpty:
            s += ": may not be more than \(max) bytes"
        case .tooMany(let max) where detail.isEmpty:
            s += ": must have at most \(max) items"
        default:
            if !detail.isEmpty { s += ": \(detail)" }
        }
        return s
    }
}

/// `Pod "x" is invalid: [a, b]` — Kubernetes' message for an Invalid status.
public struct InvalidObject: Error, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String
    public var errors: [FieldError]

    public init(kind: String, name: String, errors: [FieldError]) {
        self.kind = kind
        self.name = name
        self.errors = errors
    }

    public var description: String {
        let list = errors.count == 1 ? errors[0].description : "[" + errors.map(\.description).joined(separator: ", ") + "]"
        return "\(kind) \(FieldError.quoted(name)) is invalid: \(list)"
    }
}

/// Kubernetes' name formats and their messages.
public enum NameFormat {
    static let dns1123LabelMax = 63
    static let dns1123SubdomainMax = 253

    public static func isDNS1123Label(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= dns1123LabelMax else { return false }
        func alnum(_ c: UInt8) -> Bool { (97...122).contains(c) || (48...57).contains(c) }
        return alnum(b.first!) && alnum(b.last!) && b.allSatisfy { alnum($0) || $0 == 45 }
    }

    public static func isDNS1123Subdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= dns1123SubdomainMax else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            let b = Array(part.utf8)
            func alnum(_ c: UInt8) -> Bool { (97...122).contains(c) || (48...57).contains(c) }
            return !b.isEmpty && alnum(b.first!) && alnum(b.last!) && b.allSatisfy { alnum($0) || $0 == 45 }
        }
    }

    public static func isDNS1035Label(_ s: String) -> Bool {
        guard isDNS1123Label(s), let f = s.utf8.first else { return false }
        return (97...122).contains(f)
    }

    public static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    public static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    public static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    /// Label values: empty, or up to 63 of `[A-Za-z0-9-_.]` starting and ending alphanumeric.
    public static func isLabelValue(_ s: String) -> Bool {
        if s.isEmpty { return true }
        let b = Array(s.utf8)
        guard b.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (97...122).contains(c) || (65...90).contains(c) || (48...57).contains(c) }
        return alnum(b.first!) && alnum(b.last!) && b.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    public static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    /// Label and annotation keys: an optional DNS subdomain prefix and `/`, then a name part.
    public static func qualifiedNameProblem(_ s: String) -> String? {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if parts.count == 2 {
            if parts[0].isEmpty { return "prefix part must be non-empty" }
            if !isDNS1123Subdomain(String(parts[0])) { return "prefix part " + dns1123SubdomainMessage }
        }
        let name = String(parts.last!)
        if name.isEmpty { return "name part must be non-empty" }
        if name.utf8.count > 63 { return "name part must be no more than 63 characters" }
        if !isLabelValue(name) {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        }
        return nil
    }
}
