import ClusterModel

/// One changed field between two versions of an object: `status.phase: Pending → Running`.
public struct FieldChange: Sendable, Equatable, Codable {
    /// Dotted path; list items are named by their `type` or `name` where they have one
    /// (`status.conditions[Ready].status`), else by index.
    public var path: String
    /// The old and new values as compact JSON; nil where the field is absent.
    public var old: String?
    public var new: String?

    public var description: String {
        switch (old, new) {
        case (nil, let n?): "\(path): + \(n)"
        case (let o?, nil): "\(path): − \(o)"
        default: "\(path): \(old ?? "") → \(new ?? "")"
        }
    }
}

/// Field-level differences between two JSON documents, for history and diff output.
public enum FieldDiff {
    /// Fields that change on every write and say nothing a reader needs.
    static let ignored: Set<String> = [
        "metadata.resourceVersion", "metadata.managedFields", "metadata.generation",
    ]
    /// Leaf names whose changes are timestamps of the changes shown next to them.
    static let ignoredLeaves: Set<String> = ["lastHeartbeatTime", "lastProbeTime", "lastTransitionTime", "lastUpdateTime"]

    /// The changes from `old` to `new`, sorted by path. Objects are compared key by key, lists of
    /// objects by their `type` or `name` key when every item has one, other lists as a whole.
    /// `exact`: every difference, including the fields a reader of history does not need.
    public static func changes(from old: JSONValue?, to new: JSONValue?, limit: Int = .max, exact: Bool = false) -> [FieldChange] {
        var out: [FieldChange] = []
        walk(old, new, path: "", exact: exact, into: &out)
        out.sort { $0.path < $1.path }
        return Array(out.prefix(limit))
    }

    private static func walk(_ a: JSONValue?, _ b: JSONValue?, path: String, exact: Bool, into out: inout [FieldChange]) {
        if !exact, ignored.contains(path) { return }
        if !exact, let last = path.split(separator: ".").last, ignoredLeaves.contains(String(last)) { return }
        if a == b { return }
        switch (a, b) {
        case (.object(let x)?, .object(let y)?):
            for key in Set(x.keys).union(y.keys).sorted() {
                walk(x[key], y[key], path: path.isEmpty ? key : path + "." + key, exact: exact, into: &out)
            }
        case (.array(let x)?, .array(let y)?):
            if let kx = keyed(x), let ky = keyed(y) {
                for key in Set(kx.keys).union(ky.keys).sorted() {
                    walk(kx[key], ky[key], path: "\(path)[\(key)]", exact: exact, into: &out)
                }
            } else {
                out.append(FieldChange(path: path, old: compact(a), new: compact(b)))
            }
        default:
            out.append(FieldChange(path: path, old: compact(a), new: compact(b)))
        }
    }

    /// Items by their `type` or `name`, when every item is an object with a distinct one.
    private static func keyed(_ items: [JSONValue]) -> [String: JSONValue]? {
        guard !items.isEmpty else { return [:] }
        for field in ["type", "name", "ip"] {
            let keys = items.compactMap { $0[field]?.stringValue }
            if keys.count == items.count, Set(keys).count == keys.count {
                return Dictionary(uniqueKeysWithValues: zip(keys, items))
            }
        }
        return nil
    }

    static func compact(_ v: JSONValue?) -> String? {
        guard let v else { return nil }
        if case .string(let s) = v { return s.isEmpty ? "\"\"" : s }
        return String(decoding: v.serialized(), as: UTF8.self)
    }
}
