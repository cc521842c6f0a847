/// A set of field paths, as `metadata.managedFields` records them (`fieldsType: FieldsV1`).
///
/// A path is a list of elements written as in FieldsV1: `f:name` (a struct field or map key),
/// `k:{"name":"web"}` (the item of an associative list with those key values) or `v:"value"`
/// (an item of a set). The set is a tree: at each level, `members` are the elements whose path is
/// in the set, `children` what lies below an element. FieldsV1 writes an element that is both a
/// member and has children with a `.` entry.
public struct FieldSet: Hashable, Sendable {
    private var members: Set<String> = []
    private var children: [String: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { members.isEmpty && children.isEmpty }

    /// Reads a FieldsV1 document; nil when it is not one (a non-object anywhere in the tree).
    public init?(fieldsV1: JSONValue) {
        guard case .object(let object) = fieldsV1 else { return nil }
        for (element, value) in object where element != "." {
            guard case .object(let inner) = value else { return nil }
            if inner.isEmpty || inner["."] != nil { members.insert(element) }
            if inner.contains(where: { $0.key != "." }) {
                guard let child = FieldSet(fieldsV1: value) else { return nil }
                children[element] = child
            }
        }
    }

    /// The FieldsV1 document of this set.
    public var fieldsV1: JSONValue {
        var out: [String: JSONValue] = [:]
        for element in members where children[element] == nil { out[element] = .object([:]) }
        for (element, child) in children {
            var inner = child.fieldsV1
            if members.contains(element) { inner["."] = .object([:]) }
            out[element] = inner
        }
        return .object(out)
    }

    public mutating func insert(_ path: ArraySlice<String>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            members.insert(first)
        } else {
            children[first, default: FieldSet()].insert(path.dropFirst())
        }
    }

    public mutating func insert(_ path: [String]) { insert(path[...]) }

    public func contains(_ path: [String]) -> Bool {
        var node = self
        for (i, element) in path.enumerated() {
            if i == path.count - 1 { return node.members.contains(element) }
            guard let next = node.children[element] else { return false }
            node = next
        }
        return false
    }

    public func union(_ other: FieldSet) -> FieldSet {
        var out = self
        out.members.formUnion(other.members)
        for (element, child) in other.children { out.children[element] = out.children[element]?.union(child) ?? child }
        return out
    }

    /// This set without the paths of `other` (the very paths, not what lies below them).
    public func subtracting(_ other: FieldSet) -> FieldSet {
        var out = self
        out.members.subtract(other.members)
        for (element, child) in other.children {
            guard let mine = out.children[element] else { continue }
            let rest = mine.subtracting(child)
            out.children[element] = rest.isEmpty ? nil : rest
        }
        return out
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var out = FieldSet()
        out.members = members.intersection(other.members)
        for (element, child) in children {
            guard let theirs = other.children[element] else { continue }
            let both = child.intersection(theirs)
            if !both.isEmpty { out.children[element] = both }
        }
        return out
    }

    /// This set without the paths of `other` and everything below them.
    public func removingSubtrees(_ other: FieldSet) -> FieldSet {
        var out = self
        for element in other.members {
            out.members.remove(element)
            out.children[element] = nil
        }
        for (element, child) in other.children {
            guard let mine = out.children[element] else { continue }
            let rest = mine.removingSubtrees(child)
            out.children[element] = rest.isEmpty ? nil : rest
        }
        return out
    }

    /// This set without the paths that have a path of `other` below them: what can be removed
    /// from an object without taking something `other` holds with it.
    public func withoutAncestors(of other: FieldSet) -> FieldSet {
        var out = self
        for (element, theirs) in other.children where !theirs.isEmpty { out.members.remove(element) }
        for (element, child) in children {
            let rest = other.children[element].map(child.withoutAncestors(of:)) ?? child
            out.children[element] = rest.isEmpty ? nil : rest
        }
        return out
    }

    /// Every path of the set, sorted.
    public var paths: [[String]] {
        var out: [[String]] = members.map { [$0] }
        for (element, child) in children { out += child.paths.map { [element] + $0 } }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// A path as Kubernetes prints it in conflicts: `.spec.containers[name="web"].image`.
    public static func describe(_ path: [String]) -> String {
        path.map { element -> String in
            let body = String(element.dropFirst(2))
            switch element.prefix(2) {
            case "f:": return "." + body
            case "v:": return "[=\(body)]"
            case "k:":
                guard let key = try? JSONValue.parse(body), let fields = key.objectValue else { return "[\(body)]" }
                let parts = fields.keys.sorted().map { "\($0)=\(fields[$0]!.jsonString)" }
                return "[" + parts.joined(separator: ",") + "]"
            default: return element
            }
        }.joined()
    }

    /// The list-map item element for an item with these key values.
    public static func keyElement(_ keys: [String: JSONValue]) -> String { "k:" + JSONValue.object(keys).jsonString }

    /// The set item element for a value.
    public static func valueElement(_ value: JSONValue) -> String { "v:" + value.jsonString }

    /// The field element for a struct member or map key.
    public static func fieldElement(_ name: String) -> String { "f:" + name }
}
