import Journal

/// Why a query could not be answered, as one line a person can act on.
public enum QueryError: Error, CustomStringConvertible, Sendable {
    case notFound(ObjectKey, suggestions: [String])
    case invalid(String)
    case journal(String)

    public var description: String {
        switch self {
        case .notFound(let key, let suggestions):
            let what = "\(key.kind.lowercased()) \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name)"
            let hint = suggestions.isEmpty ? "" : "; did you mean \(suggestions.joined(separator: " or "))?"
            return "\(what) not found in the journal (it never existed\(hint))"
        case .invalid(let message), .journal(let message):
            return message
        }
    }
}

extension QueryError {
    /// Why `key` is not in the state at `revision`: it never existed (with suggestions), or it
    /// existed at other revisions.
    public static func absent(_ key: ObjectKey, at revision: UInt64, in view: JournalView) throws -> QueryError {
        let revisions = try view.history(of: key)
        guard let first = revisions.first, let last = revisions.last else {
            return .notFound(key, suggestions: try Suggestions.names(like: key, in: view))
        }
        let kind = key.kind.lowercased()
        let what = "\(kind) \(key.namespace.isEmpty ? "" : key.namespace + "/")\(key.name)"
        return .invalid("\(what) did not exist at revision \(revision); its events are at revisions \(first)–\(last) (kj history \(kind)/\(key.name))")
    }
}

/// Names close to a mistyped one, for "did you mean …?".
enum Suggestions {
    /// Up to three names of the same kind and namespace: those that start with or contain the
    /// name given, else those within a small edit distance, nearest first.
    static func names(like key: ObjectKey, in view: JournalView) throws -> [String] {
        let names = try view.objectKeys(kind: key.kind, namespace: key.namespace).map(\.name)
        let wanted = key.name.lowercased()
        let containing = names.filter { $0.lowercased().hasPrefix(wanted) || $0.lowercased().contains(wanted) }
        if !containing.isEmpty { return Array(containing.prefix(3)) }
        let limit = max(2, wanted.count / 3)
        return names.map { ($0, distance(wanted, $0.lowercased())) }.filter { $0.1 <= limit }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
