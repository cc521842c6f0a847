import Yams

extension JSONValue {
    /// The value as YAML, keys sorted (what `kubectl get -o yaml` prints).
    public func yaml() -> String {
        (try? Yams.serialize(node: yamlNode(), sortKeys: true)) ?? ""
    }

    private func yamlNode() -> Yams.Node {
        switch self {
        case .null: return Yams.Node("null", Yams.Tag(.null))
        case .bool(let b): return Yams.Node(b ? "true" : "false", Yams.Tag(.bool))
        case .int(let i): return Yams.Node(String(i), Yams.Tag(.int))
        case .double(let d): return Yams.Node(String(d), Yams.Tag(.float))
        case .string(let s):
            // Quote strings a YAML reader would take for something else ("4", "true", a date).
            let plain = Yams.Node(s)
            return plain.tag.rawValue == Yams.Tag.Name.str.rawValue ? Yams.Node(s, Yams.Tag(.str)) : Yams.Node(s, Yams.Tag(.str), .doubleQuoted)
        case .array(let a): return Yams.Node(a.map { $0.yamlNode() })
        case .object(let o): return Yams.Node(o.sorted { $0.key < $1.key }.map { (Yams.Node($0.key), $0.value.yamlNode()) })
        }
    }
}
