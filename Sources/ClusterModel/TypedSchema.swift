import Synchronization

/// A kind's OpenAPI schema read the way server-side apply reads it (structured-merge-diff's typed
/// values): which objects are structs and which are maps, which lists are keyed, sets or atomic.
/// It computes the field sets of `metadata.managedFields`, compares two versions of an object and
/// merges an applied configuration into the live object.
public struct TypedSchema: Sendable {
    private let components: [String: JSONValue]
    private let root: JSONValue

    private static let cache = Mutex<[String: TypedSchema]>([:])

    /// The schema of `kind` (built once per process).
    public static func of(_ kind: ResourceKind) -> TypedSchema {
        let key = kind.apiVersion + "/" + kind.kind
        if let known = cache.withLock({ $0[key] }) { return known }
        var schemas = OpenAPISchemas(referencePrefix: "")
        let name = schemas.add(kind)
        let built = TypedSchema(components: schemas.components, root: schemas.components[name] ?? [:])
        cache.withLock { $0[key] = built }
        return built
    }

    /// What a schema node says a value is.
    enum Shape {
        case structure([String: JSONValue])
        case map(element: JSONValue)
        case keyedList(keys: [String], element: JSONValue)
        case set
        /// Scalars, atomic lists, maps and structs, and values of unknown shape: owned and replaced whole.
        case leaf
    }

    private func resolve(_ schema: JSONValue) -> JSONValue {
        if let reference = schema["$ref"]?.stringValue { return components[reference] ?? [:] }
        if let first = schema["allOf"]?.arrayValue?.first { return resolve(first) }
        return schema
    }

    func shape(_ schema: JSONValue) -> Shape {
        let s = resolve(schema)
        if s["x-kubernetes-map-type"] == "atomic" || s["x-kubernetes-preserve-unknown-fields"] == true { return .leaf }
        if let properties = s["properties"]?.objectValue { return .structure(properties) }
        if let element = s["additionalProperties"] { return .map(element: element) }
        guard s["type"] == "array" else { return .leaf }
        switch s["x-kubernetes-list-type"]?.stringValue {
        case "map":
            let keys = s["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return .keyedList(keys: keys, element: s["items"] ?? [:])
        case "set": return .set
        default: return .leaf
        }
    }

    /// An error in an applied configuration, as kube-apiserver words it (`.spec.foo: field not
    /// declared in schema`).
    public struct TypeError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The element naming `item` in a keyed list, with defaults for key fields it leaves out.
    private static func keyElement(_ item: JSONValue, keys: [String], path: [String]) throws(TypeError) -> String {
        var values: [String: JSONValue] = [:]
        for key in keys {
            if let v = item[key], v != .null {
                values[key] = v
            } else if let fallback = MergeSemantics.keyDefaults[key] {
                values[key] = fallback
            } else {
                throw TypeError(description: "\(FieldSet.describe(path)): associative list with keys has an element that omits key field \"\(key)\" (and doesn't have default value)")
            }
        }
        return FieldSet.keyElement(values)
    }

    // MARK: the fields of an applied configuration

    /// The fields an applied configuration sets: its leaves, the items of its keyed lists and sets,
    /// the keys of its maps, and its empty objects (structured-merge-diff's `ToFieldSet`).
    public func fieldsSet(by config: JSONValue) throws(TypeError) -> FieldSet {
        var set = FieldSet()
        try collect(config, root, [], &set)
        return set
    }

    private func collect(_ value: JSONValue, _ schema: JSONValue, _ path: [String], _ set: inout FieldSet) throws(TypeError) {
        switch shape(schema) {
        case .structure(let properties):
            guard case .object(let object) = value else { set.insert(path); return }
            for key in object.keys.sorted() {
                let child = object[key]!
                let p = path + [FieldSet.fieldElement(key)]
                guard let memberSchema = properties[key] else {
                    throw TypeError(description: "\(FieldSet.describe(p)): field not declared in schema")
                }
                if child == .null || child == .object([:]) { set.insert(p) }
                try collect(child, memberSchema, p, &set)
            }
        case .map(let element):
            guard case .object(let object) = value else { set.insert(path); return }
            for key in object.keys.sorted() {
                let p = path + [FieldSet.fieldElement(key)]
                set.insert(p)
                try collect(object[key]!, element, p, &set)
            }
        case .keyedList(let keys, let element):
            guard case .array(let items) = value else { set.insert(path); return }
            for item in items {
                let p = path + [try Self.keyElement(item, keys: keys, path: path)]
                set.insert(p)
                try collect(item, element, p, &set)
            }
        case .set:
            guard case .array(let items) = value else { set.insert(path); return }
            for item in items { set.insert(path + [FieldSet.valueElement(item)]) }
        case .leaf:
            if !path.isEmpty { set.insert(path) }
        }
    }

    // MARK: comparing two versions

    /// What changed from `old` to `new`: the paths added or modified, and those removed
    /// (structured-merge-diff's `Compare`). A path added brings its whole subtree.
    public func changes(from old: JSONValue?, to new: JSONValue?) -> (changed: FieldSet, removed: FieldSet) {
        var changed = FieldSet(), removed = FieldSet()
        compare(old, new, root, [], &changed, &removed)
        return (changed, removed)
    }

    private func compare(_ old: JSONValue?, _ new: JSONValue?, _ schema: JSONValue, _ path: [String], _ changed: inout FieldSet, _ removed: inout FieldSet) {
        let old = old == .null ? nil : old, new = new == .null ? nil : new
        switch (old, new) {
        case (nil, nil): return
        case (nil, let n?): added(n, schema, path, &changed); return
        case (_?, nil): removed.insert(path); return
        case (let o?, let n?):
            switch shape(schema) {
            case .structure(let properties):
                guard case .object(let a) = o, case .object(let b) = n else { break }
                for key in Set(a.keys).union(b.keys) {
                    compare(a[key], b[key], properties[key] ?? [:], path + [FieldSet.fieldElement(key)], &changed, &removed)
                }
                return
            case .map(let element):
                guard case .object(let a) = o, case .object(let b) = n else { break }
                for key in Set(a.keys).union(b.keys) {
                    compare(a[key], b[key], element, path + [FieldSet.fieldElement(key)], &changed, &removed)
                }
                return
            case .keyedList(let keys, let itemSchema):
                guard case .array(let a) = o, case .array(let b) = n,
                      let before = try? keyed(a, keys, path), let after = try? keyed(b, keys, path) else { break }
                for (element, item) in after { compare(before[element], item, itemSchema, path + [element], &changed, &removed) }
                for element in before.keys where after[element] == nil { removed.insert(path + [element]) }
                return
            case .set:
                guard case .array(let a) = o, case .array(let b) = n else { break }
                for item in b where !a.contains(item) { changed.insert(path + [FieldSet.valueElement(item)]) }
                for item in a where !b.contains(item) { removed.insert(path + [FieldSet.valueElement(item)]) }
                return
            case .leaf:
                break
            }
            if o != n { changed.insert(path) }
        }
    }

    private func keyed(_ items: [JSONValue], _ keys: [String], _ path: [String]) throws(TypeError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for item in items { out[try Self.keyElement(item, keys: keys, path: path)] = item }
        return out
    }

    /// A value that is new: its path and everything below it.
    private func added(_ value: JSONValue, _ schema: JSONValue, _ path: [String], _ set: inout FieldSet) {
        if !path.isEmpty { set.insert(path) }
        switch shape(schema) {
        case .structure(let properties):
            for (key, child) in value.objectValue ?? [:] where child != .null {
                added(child, properties[key] ?? [:], path + [FieldSet.fieldElement(key)], &set)
            }
        case .map(let element):
            for (key, child) in value.objectValue ?? [:] { added(child, element, path + [FieldSet.fieldElement(key)], &set) }
        case .keyedList(let keys, let element):
            for item in value.arrayValue ?? [] {
                guard let e = try? Self.keyElement(item, keys: keys, path: path) else { continue }
                added(item, element, path + [e], &set)
            }
        case .set:
            for item in value.arrayValue ?? [] { set.insert(path + [FieldSet.valueElement(item)]) }
        case .leaf:
            break
        }
    }

    // MARK: merging and removing

    /// `config` merged into `live`: structs and maps member by member, keyed lists item by item
    /// (new items appended), sets as unions; everything else is replaced by the configuration's.
    public func merge(_ config: JSONValue, into live: JSONValue) throws(TypeError) -> JSONValue {
        try merge(config, live, root, [])
    }

    private func merge(_ config: JSONValue, _ live: JSONValue?, _ schema: JSONValue, _ path: [String]) throws(TypeError) -> JSONValue {
        guard let live, live != .null else { return config }
        switch shape(schema) {
        case .structure(let properties):
            guard case .object(var out) = live, case .object(let c) = config else { return config }
            for (key, value) in c {
                out[key] = value == .null ? nil : try merge(value, out[key], properties[key] ?? [:], path + [FieldSet.fieldElement(key)])
            }
            return .object(out)
        case .map(let element):
            guard case .object(var out) = live, case .object(let c) = config else { return config }
            for (key, value) in c {
                out[key] = value == .null ? nil : try merge(value, out[key], element, path + [FieldSet.fieldElement(key)])
            }
            return .object(out)
        case .keyedList(let keys, let element):
            guard case .array(var out) = live, case .array(let c) = config else { return config }
            var index: [String: Int] = [:]
            for (i, item) in out.enumerated() { index[try Self.keyElement(item, keys: keys, path: path)] = i }
            for item in c {
                let e = try Self.keyElement(item, keys: keys, path: path)
                if let i = index[e] {
                    out[i] = try merge(item, out[i], element, path + [e])
                } else {
                    index[e] = out.count
                    out.append(item)
                }
            }
            return .array(out)
        case .set:
            guard case .array(var out) = live, case .array(let c) = config else { return config }
            for item in c where !out.contains(item) { out.append(item) }
            return .array(out)
        case .leaf:
            return config
        }
    }

    /// `value` without the paths of `set`.
    public func removing(_ set: FieldSet, from value: JSONValue) -> JSONValue {
        removing(set, value, root)
    }

    private func removing(_ set: FieldSet, _ value: JSONValue, _ schema: JSONValue) -> JSONValue {
        guard !set.isEmpty else { return value }
        let top = Dictionary(grouping: set.paths, by: { $0[0] })
        switch shape(schema) {
        case .structure, .map:
            guard case .object(var out) = value else { return value }
            for (element, paths) in top where element.hasPrefix("f:") {
                let key = String(element.dropFirst(2))
                guard let child = out[key] else { continue }
                if paths.contains(where: { $0.count == 1 }) {
                    out[key] = nil
                } else {
                    out[key] = removing(Self.below(paths), child, memberSchema(schema, key))
                }
            }
            return .object(out)
        case .keyedList(let keys, let element):
            guard case .array(let items) = value else { return value }
            var out: [JSONValue] = []
            for item in items {
                guard let e = try? Self.keyElement(item, keys: keys, path: []), let paths = top[e] else { out.append(item); continue }
                if paths.contains(where: { $0.count == 1 }) { continue }
                out.append(removing(Self.below(paths), item, element))
            }
            return .array(out)
        case .set:
            guard case .array(let items) = value else { return value }
            return .array(items.filter { top[FieldSet.valueElement($0)] == nil })
        case .leaf:
            return value
        }
    }

    private func memberSchema(_ schema: JSONValue, _ key: String) -> JSONValue {
        switch shape(schema) {
        case .structure(let properties): properties[key] ?? [:]
        case .map(let element): element
        default: [:]
        }
    }

    private static func below(_ paths: [[String]]) -> FieldSet {
        var set = FieldSet()
        for p in paths where p.count > 1 { set.insert(p.dropFirst()) }
        return set
    }
}
