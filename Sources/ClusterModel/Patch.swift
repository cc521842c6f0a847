import Foundation

/// The three patch formats of the Kubernetes API, applied to JSON values.
public enum Patch {
    /// A patch that cannot be applied; the API answers it with BadRequest (or Invalid).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    // MARK: JSON merge patch (RFC 7386)

    /// `application/merge-patch+json`: objects merge recursively, `null` deletes, anything else replaces.
    public static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var t = target.objectValue ?? [:]
        for (k, v) in p {
            if v == .null { t[k] = nil } else { t[k] = mergePatch(t[k] ?? .null, v) }
        }
        return .object(t)
    }

    // MARK: strategic merge patch

    /// `application/strategic-merge-patch+json`: like a merge patch, but lists of objects with a
    /// merge key (containers by `name`, container ports by `containerPort`, tolerations by `key` …)
    /// are merged element by element. Supports the directives kubectl sends: `$patch` (`replace`,
    /// `delete`, `merge`), `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
    public static func strategicMerge(_ target: JSONValue, _ patch: JSONValue, path: [String] = []) throws(Failure) -> JSONValue {
        guard case .object(var p) = patch else { return patch }
        if let directive = p.removeValue(forKey: "$patch")?.stringValue {
            switch directive {
            case "replace": return .object(p)
            case "delete": return .null
            case "merge": break
            default: throw Failure(description: "unknown patch type: \(directive) in map")
            }
        }
        var t = target.objectValue ?? [:]
        let retain = p.removeValue(forKey: "$retainKeys")?.arrayValue?.compactMap(\.stringValue)
        var orders: [String: [JSONValue]] = [:]
        for key in p.keys.sorted() {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = p.removeValue(forKey: key)?.arrayValue
            } else if key.hasPrefix("$deleteFromPrimitiveList/") {
                let list = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = p.removeValue(forKey: key)?.arrayValue ?? []
                if let existing = t[list]?.arrayValue { t[list] = .array(existing.filter { !remove.contains($0) }) }
            }
        }
        for key in p.keys.sorted() {
            let v = p[key]!
            if v == .null { t[key] = nil; continue }
            let childPath = path + [key]
            switch v {
            case .object:
                t[key] = try strategicMerge(t[key] ?? .null, v, path: childPath)
                if t[key] == .null { t[key] = nil }
            case .array(let items):
                t[key] = try mergeList(t[key]?.arrayValue ?? [], items, path: childPath)
            default:
                t[key] = v
            }
        }
        for (key, order) in orders {
            if let list = t[key]?.arrayValue { t[key] = .array(ordered(list, by: order, mergeKey: mergeKey(path + [key]))) }
        }
        if let retain { t = t.filter { retain.contains($0.key) } }
        return .object(t)
    }

    /// The merge key of the list at `path` (field names only, no indexes), or nil for lists that
    /// are replaced whole.
    public static func mergeKey(_ path: [String]) -> String? {
        guard let field = path.last else { return nil }
        let parent = path.dropLast().last
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets":
            return "name"
        case "ports":
            return parent == "spec" ? "port" : "containerPort"
        case "volumeMounts": return "mountPath"
        case "tolerations", "taints": return "key"
        case "conditions", "addresses": return "type"
        case "ownerReferences": return "uid"
        case "hostAliases": return "ip"
        default: return nil
        }
    }

    /// Lists whose primitive items are merged as sets rather than replaced.
    static func mergesPrimitives(_ path: [String]) -> Bool { path.last == "finalizers" }

    private static func mergeList(_ target: [JSONValue], _ patch: [JSONValue], path: [String]) throws(Failure) -> JSONValue {
        if mergesPrimitives(path) {
            var out = target
            for v in patch where !out.contains(v) { out.append(v) }
            return .array(out)
        }
        guard let key = mergeKey(path) else {
            // `$patch: replace` inside an atomic list is just the list.
            return .array(patch.filter { $0["$patch"] == nil })
        }
        // An item `{"$patch": "replace"}` replaces the whole list with the other items.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"]?.stringValue != "replace" })
        }
        var out = target
        for item in patch {
            guard case .object(let o) = item else { throw Failure(description: "list \(path.joined(separator: ".")) is merged by \(key); its items must be objects") }
            guard let id = o[key] else { throw Failure(description: "map: \(item.jsonString) does not contain declared merge key: \(key)") }
            let index = out.firstIndex { $0[key] == id }
            if o["$patch"]?.stringValue == "delete" {
                if let index { out.remove(at: index) }
                continue
            }
            if let index {
                out[index] = try strategicMerge(out[index], .object(o), path: path)
            } else {
                out.append(try strategicMerge(.object([:]), .object(o), path: path))
            }
        }
        return .array(out)
    }

    private static func ordered(_ list: [JSONValue], by order: [JSONValue], mergeKey: String?) -> [JSONValue] {
        func id(_ v: JSONValue) -> JSONValue { mergeKey.flatMap { v[$0] } ?? v }
        let rank = Dictionary(order.enumerated().map { (id($0.element), $0.offset) }, uniquingKeysWith: { a, _ in a })
        return list.enumerated().sorted { a, b in
            (rank[id(a.element)] ?? Int.max, a.offset) < (rank[id(b.element)] ?? Int.max, b.offset)
        }.map(\.element)
    }

    // MARK: JSON patch (RFC 6902)

    /// `application/json-patch+json`: a list of add/remove/replace/move/copy/test operations.
    public static func jsonPatch(_ target: JSONValue, _ operations: JSONValue) throws(Failure) -> JSONValue {
        guard case .array(let ops) = operations else { throw Failure(description: "a JSON patch must be a list of operations") }
        var doc = target
        for (i, op) in ops.enumerated() {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw Failure(description: "operation \(i) needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch name {
            case "add":
                guard let v = op["value"] else { throw Failure(description: "add operation does not contain a value field") }
                doc = try set(doc, pointer, v, insert: true)
            case "replace":
                guard let v = op["value"] else { throw Failure(description: "replace operation does not contain a value field") }
                _ = try get(doc, pointer)
                doc = try set(doc, pointer, v, insert: false)
            case "remove":
                doc = try remove(doc, pointer)
            case "move", "copy":
                guard let from = op["from"]?.stringValue else { throw Failure(description: "\(name) operation does not contain a from field") }
                let fromPointer = try parsePointer(from)
                let v = try get(doc, fromPointer)
                if name == "move" { doc = try remove(doc, fromPointer) }
                doc = try set(doc, pointer, v, insert: true)
            case "test":
                guard try get(doc, pointer) == op["value"] else { throw Failure(description: "testing value \(path) failed") }
            default:
                throw Failure(description: "unexpected operation \"\(name)\"")
            }
        }
        return doc
    }

    private static func parsePointer(_ s: String) throws(Failure) -> [String] {
        guard s.isEmpty || s.hasPrefix("/") else { throw Failure(description: "invalid JSON pointer \"\(s)\"") }
        return s.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ doc: JSONValue, _ p: [String]) throws(Failure) -> JSONValue {
        var cur = doc
        for token in p {
            switch cur {
            case .object(let o):
                guard let v = o[token] else { throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))") }
                cur = v
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))") }
                cur = a[i]
            default:
                throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))")
            }
        }
        return cur
    }

    private static func set(_ doc: JSONValue, _ p: [String], _ value: JSONValue, insert: Bool) throws(Failure) -> JSONValue {
        guard let token = p.first else { return value }
        let rest = Array(p.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                o[token] = value
            } else {
                guard let child = o[token] else { throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))") }
                o[token] = try set(child, rest, value, insert: insert)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if token == "-" && insert { a.append(value); return .array(a) }
                guard let i = Int(token), i >= 0, i <= a.count, insert || i < a.count else {
                    throw Failure(description: "index \(token) is out of bounds")
                }
                if insert { a.insert(value, at: i) } else { a[i] = value }
            } else {
                guard let i = Int(token), a.indices.contains(i) else { throw Failure(description: "index \(token) is out of bounds") }
                a[i] = try set(a[i], rest, value, insert: insert)
            }
            return .array(a)
        default:
            throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))")
        }
    }

    private static func remove(_ doc: JSONValue, _ p: [String]) throws(Failure) -> JSONValue {
        guard let token = p.first else { throw Failure(description: "cannot remove the whole document") }
        let rest = Array(p.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[token] else { throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))") }
            o[token] = rest.isEmpty ? nil : try remove(child, rest)
            return .object(o)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) else { throw Failure(description: "index \(token) is out of bounds") }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest) }
            return .array(a)
        default:
            throw Failure(description: "doc is missing path: /\(p.joined(separator: "/"))")
        }
    }
}
