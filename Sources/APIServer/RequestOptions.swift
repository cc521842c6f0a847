import ClusterModel
import ControlPlane
import Foundation

// Query parameters and DeleteOptions, read and checked as kube-apiserver reads and checks them:
// a value that cannot be parsed is a 400 with Go's `strconv` message (the parameter codec's
// error), a parsed value the options do not allow is a 422 `Invalid` on the options kind
// (`ListOptions.meta.k8s.io "" is invalid: …`), as `ValidateListOptions`, `ValidateDeleteOptions`
// and friends in apimachinery answer.

extension APIRequest {
    /// A boolean query parameter as Kubernetes' parameter codec reads one: absent is false, `0`
    /// and `false` (any case) are false, anything else (even empty) is true.
    func flag(_ name: String) -> Bool {
        guard let v = query[name] else { return false }
        return QueryParameter.bool(v)
    }

    /// An int64 query parameter (nil when absent); unparsable text is a 400.
    func int64(_ name: String) throws(StatusError) -> Int64? {
        guard let v = query[name] else { return nil }
        return try QueryParameter.int64(v)
    }
}

/// Parsing of single query values, with Go's error messages.
enum QueryParameter {
    static func bool(_ v: String) -> Bool { !(v == "0" || v.lowercased() == "false") }

    /// `strconv.ParseInt(v, 10, 64)`.
    static func int64(_ v: String) throws(StatusError) -> Int64 {
        if let i = Int64(v) { return i }
        throw StatusError(.badRequest, "strconv.ParseInt: parsing \(FieldError.quoted(v)): \(problem(v, signed: true))")
    }

    /// Go's reason a number did not parse: too large for 64 bits, or not a number at all.
    static func problem(_ v: String, signed: Bool) -> String {
        var digits = Substring(v)
        if signed, let first = digits.first, first == "+" || first == "-" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) ? "value out of range" : "invalid syntax"
    }

    /// `strconv.ParseUint(v, 10, 64)`'s message, for resource versions.
    static func uintProblem(_ v: String) -> String {
        "strconv.ParseUint: parsing \(FieldError.quoted(v)): \(problem(v, signed: false))"
    }
}

/// `Kind.meta.k8s.io "" is invalid: …`, as `errors.NewInvalid` words it. (Without field causes:
/// `StatusError.Cause` can only be made inside ControlPlane.)
func invalidOptions(_ kind: String, _ errors: [FieldError], group: String = "meta.k8s.io", name: String = "") -> StatusError {
    let qualified = group.isEmpty ? kind : "\(kind).\(group)"
    return StatusError(.invalid, InvalidObject(kind: qualified, name: name, errors: errors).description, name: name.isEmpty ? nil : name,
                       group: group, kind: kind)
}

/// `ListOptions` of a list or watch.
struct ListOptions {
    var watch = false
    var resourceVersion: String?
    var resourceVersionMatch: String?
    var continueToken: String?
    var limit: Int64 = 0
    var timeoutSeconds: Int64?
    var sendInitialEvents: Bool?

    /// Reads the options (400 for a number that does not parse) and validates them (422).
    init(_ r: APIRequest) throws(StatusError) {
        watch = r.flag("watch")
        resourceVersion = r.query["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersionMatch = r.query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        continueToken = r.query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        limit = try r.int64("limit") ?? 0
        timeoutSeconds = try r.int64("timeoutSeconds")
        sendInitialEvents = r.query["sendInitialEvents"].map(QueryParameter.bool)
        let errors = watch ? watchErrors() : listErrors()
        guard errors.isEmpty else { throw invalidOptions("ListOptions", errors) }
    }

    static let exact = "Exact", notOlderThan = "NotOlderThan"

    private func listErrors() -> [FieldError] {
        var errors: [FieldError] = []
        if let match = resourceVersionMatch {
            if resourceVersion == nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"))
            }
            if continueToken != nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
            }
            if match != Self.exact, match != Self.notOlderThan {
                errors.append(FieldError(.notSupported([Self.exact, Self.notOlderThan, ""]), "resourceVersionMatch", value: FieldError.quoted(match)))
            }
            if match == Self.exact, resourceVersion == "0" {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""))
            }
        }
        if sendInitialEvents != nil {
            errors.append(FieldError(.forbidden, "sendInitialEvents", "sendInitialEvents is forbidden for list"))
        }
        return errors
    }

    /// A watch (kube-apiserver with the WatchList feature off, as kubectl 1.32's servers have it).
    private func watchErrors() -> [FieldError] {
        var errors: [FieldError] = []
        if sendInitialEvents != nil {
            if resourceVersionMatch != Self.notOlderThan {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            errors.append(FieldError(.forbidden, "sendInitialEvents", "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"))
        }
        if let match = resourceVersionMatch {
            if sendInitialEvents == nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
            }
            if match != Self.notOlderThan {
                errors.append(FieldError(.notSupported([Self.notOlderThan]), "resourceVersionMatch", value: FieldError.quoted(match)))
            }
            if continueToken != nil {
                errors.append(FieldError(.forbidden, "resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"))
            }
        }
        return errors
    }

    /// The revision `resourceVersion` names (0 when absent or `0`). Text that is not a revision
    /// is refused as the storage layer refuses it: 400 for a list, 422 for a watch of `kind`.
    func revision(of kind: ResourceKind) throws(StatusError) -> UInt64 {
        guard let rv = resourceVersion, rv != "0" else { return 0 }
        if let revision = UInt64(rv) { return revision }
        let error = FieldError(.invalid, "resourceVersion", value: FieldError.quoted(rv), QueryParameter.uintProblem(rv))
        guard watch else { throw StatusError(.badRequest, "invalid resource version: \(error)") }
        throw invalidOptions(kind.plural, [error], group: kind.group)
    }

    /// How long a watch lasts: `timeoutSeconds` if given (negative: over at once), else a spread
    /// between `minimum` and twice that, as kube-apiserver does with `--min-request-timeout`.
    func watchTimeout(minimum seconds: Int) -> Duration {
        if let timeoutSeconds, timeoutSeconds != 0 { return .seconds(max(0, timeoutSeconds)) }
        return .milliseconds(Int64(seconds) * 1000 + Int64.random(in: 0..<Int64(max(1, seconds)) * 1000))
    }
}

/// `CreateOptions`, `UpdateOptions` and `PatchOptions`: the query parameters of a write.
struct WriteOptions {
    var dryRun: Bool
    var strict: Bool
    /// `force` of a server-side apply: take the fields other managers own.
    var force: Bool

    static let fieldManagerMaxLength = 128
    static let fieldValidations = ["", "Ignore", "Strict", "Warn"]

    /// `kind`: CreateOptions, UpdateOptions or PatchOptions; `apply`, for a patch, whether it is a
    /// server-side apply (which needs a field manager; only it may force).
    init(_ r: APIRequest, kind: String, apply: Bool? = nil) throws(StatusError) {
        var errors: [FieldError] = []
        if apply == false, r.query["force"] != nil {
            errors.append(FieldError(.forbidden, "force", "may not be specified for non-apply patch"))
        }
        if apply == true, (r.query["fieldManager"] ?? "").isEmpty {
            errors.append(FieldError(.required, "fieldManager", "is required for apply patch"))
        }
        if let manager = r.query["fieldManager"] {
            if manager.utf8.count > Self.fieldManagerMaxLength { errors.append(FieldError(.tooLong(Self.fieldManagerMaxLength), "fieldManager")) }
            for (i, scalar) in manager.unicodeScalars.enumerated() where !Self.printable(scalar) {
                errors.append(FieldError(.invalid, "fieldManager", value: FieldError.quoted(manager),
                                         "invalid character U+\(String(format: "%04X", scalar.value)) (at position \(i))"))
            }
        }
        errors += dryRunErrors(r.query["dryRun"])
        let validation = r.query["fieldValidation"] ?? ""
        if !Self.fieldValidations.contains(validation) {
            errors.append(FieldError(.notSupported(Self.fieldValidations), "fieldValidation", value: FieldError.quoted(validation)))
        }
        guard errors.isEmpty else { throw invalidOptions(kind, errors) }
        dryRun = r.query["dryRun"] == "All"
        strict = validation == "Strict"
        force = r.query["force"] == "true"
    }

    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
    static func printable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}

/// `dryRun` may only be `All`.
private func dryRunErrors(_ values: [String]?) -> [FieldError] {
    guard let values, values.contains(where: { $0 != "All" }) else { return [] }
    return [FieldError(.notSupported(["All"]), "dryRun", value: JSONValue.array(values.map(JSONValue.string)).jsonString)]
}

private func dryRunErrors(_ value: String?) -> [FieldError] { dryRunErrors(value.map { [$0] }) }

/// `DeleteOptions`, from the body or (when there is none) the query, as kube-apiserver reads them.
struct DeleteOptions {
    var gracePeriodSeconds: Int64?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var orphanDependents: Bool?
    var propagationPolicy: String?
    var dryRun: [String] = []

    static let propagationPolicies = ["Foreground", "Background", "Orphan"]
    /// The longest grace period honoured: the largest whole number of seconds a Go
    /// `time.Duration` holds (about 292 years). kube-apiserver takes any int64 and its arithmetic
    /// wraps beyond this; here a longer one is shortened to it.
    static let maxGracePeriodSeconds = Int64.max / 1_000_000_000

    /// From a body already decoded by content type (`body`), else from the query.
    init(_ r: APIRequest, body: JSONValue?) throws(StatusError) {
        if let body {
            self = try Self.decoding(body)
        } else {
            gracePeriodSeconds = try r.int64("gracePeriodSeconds")
            orphanDependents = r.query["orphanDependents"].map(QueryParameter.bool)
            propagationPolicy = r.query["propagationPolicy"]
            dryRun = r.query["dryRun"].map { [$0] } ?? []
        }
        var errors: [FieldError] = []
        if orphanDependents != nil, let policy = propagationPolicy {
            errors.append(FieldError(.invalid, "propagationPolicy", value: FieldError.quoted(policy), "orphanDependents and deletionPropagation cannot be both set"))
        }
        if let policy = propagationPolicy, !Self.propagationPolicies.contains(policy) {
            errors.append(FieldError(.notSupported(Self.propagationPolicies + ["nil"]), "propagationPolicy", value: FieldError.quoted(policy)))
        }
        errors += dryRunErrors(dryRun.isEmpty ? nil : dryRun)
        guard errors.isEmpty else { throw invalidOptions("DeleteOptions", errors) }
    }

    /// A DeleteOptions document: an object whose members have DeleteOptions' types (other members
    /// are ignored, as the non-strict decoder ignores them).
    private init() {}

    private static func decoding(_ body: JSONValue) throws(StatusError) -> DeleteOptions {
        var options = DeleteOptions()
        guard case .object(let o) = body else {
            if body == .null { return options }
            throw StatusError(.badRequest, "couldn't get version/kind; json parse error: json: cannot unmarshal \(goJSONType(body)) into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }")
        }
        if let kind = o["kind"], kind != .string("DeleteOptions"), kind != .string("") {
            throw StatusError(.badRequest, "decoded object cannot be converted to DeleteOptions")
        }
        func typed<T>(_ value: JSONValue?, _ field: String, _ type: String, _ read: (JSONValue) -> T?) throws(StatusError) -> T? {
            guard let value, value != .null else { return nil }
            guard let v = read(value) else {
                throw StatusError(.badRequest, "json: cannot unmarshal \(goJSONType(value)) into Go struct field \(field) of type \(type)")
            }
            return v
        }
        options.gracePeriodSeconds = try typed(o["gracePeriodSeconds"], "DeleteOptions.gracePeriodSeconds", "int64") { if case .int(let i) = $0 { i } else { nil } }
        options.orphanDependents = try typed(o["orphanDependents"], "DeleteOptions.orphanDependents", "bool") { if case .bool(let b) = $0 { b } else { nil } }
        options.propagationPolicy = try typed(o["propagationPolicy"], "DeleteOptions.propagationPolicy", "v1.DeletionPropagation") { $0.stringValue }
        options.dryRun = try typed(o["dryRun"], "DeleteOptions.dryRun", "[]string") { v in
            v.arrayValue.flatMap { items in
                let strings = items.compactMap(\.stringValue)
                return strings.count == items.count ? strings : nil
            }
        } ?? []
        let preconditions = try typed(o["preconditions"], "DeleteOptions.preconditions", "v1.Preconditions") { $0.objectValue }
        options.preconditionUID = try typed(preconditions?["uid"], "DeleteOptions.preconditions.uid", "types.UID") { $0.stringValue }
        options.preconditionResourceVersion = try typed(preconditions?["resourceVersion"], "DeleteOptions.preconditions.resourceVersion", "string") { $0.stringValue }
        return options
    }

    var isDryRun: Bool { dryRun.contains("All") }

    /// The propagation asked for: `propagationPolicy`, or the older `orphanDependents`.
    var policy: Store.PropagationPolicy? {
        if let p = propagationPolicy { return Store.PropagationPolicy(rawValue: p) }
        return orphanDependents.map { $0 ? .orphan : .background }
    }

    /// The grace period the Store is asked for: negative means 1 s (kube-apiserver's
    /// `BeforeDelete`), and no more than `maxGracePeriodSeconds`.
    var gracePeriod: Int64? {
        gracePeriodSeconds.map { $0 < 0 ? 1 : min($0, Self.maxGracePeriodSeconds) }
    }
}

/// How Go's encoding/json names a JSON value in its type errors (`number 1.5`, `string`).
func goJSONType(_ v: JSONValue) -> String {
    switch v {
    case .int(let i): "number \(i)"
    case .double(let d): "number \(d)"
    case .bool: "bool"
    default: v.typeName
    }
}
