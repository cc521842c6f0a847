import CYaml
import Yams

/// Turns YAML text into JSON values straight from libyaml's event stream, within bounds, so that
/// no document can cost more than its size justifies:
///
/// - **Aliases** are shared, never copied, and each one is charged the size of the node it names.
///   A document is refused with "document contains excessive aliasing" once alias-driven nodes
///   outweigh the rest as go-yaml v2 measures it since the "billion laughs" fix Kubernetes took
///   for CVE-2019-11253: more than 100 of them, more than 1,000 nodes in all, and a share of the
///   nodes above 99 % for documents up to 400,000 nodes, falling to 10 % at 4,000,000. That caps
///   what aliases can add at about 400,000 nodes.
/// - **Nesting** stops at `JSONValue.maxNesting` levels, like the JSON reader.
/// - **Mapping keys** must be scalars (an alias of a scalar will do), so no key is ever a large
///   structure to compare or hash.
///
/// Yams' own composer is not used for this: it resolves aliases by copying, compares whole keys,
/// and recurses per level, so a few hundred bytes can keep it busy for minutes.
struct YAMLComposer {
    /// go-yaml v2's thresholds (`decode.go`, `allowedAliasRatio`).
    static let aliasRatioLow = 400_000
    static let aliasRatioHigh = 4_000_000

    private var decoded = 0
    private var aliased = 0
    private var anchors: [String: Composed] = [:]

    /// A finished node: its value, what an alias of it costs, and for a scalar its text (what it
    /// means as a mapping key).
    private struct Composed {
        var value: JSONValue
        var size: Int
        var text: String?
    }

    /// The documents of `bytes` (UTF-8), in order; an empty document is `.null`.
    static func documents(_ bytes: [UInt8]) throws(Manifest.ReadError) -> [JSONValue] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Manifest.ReadError(description: "invalid YAML: the parser could not start") }
        defer { yaml_parser_delete(&parser) }
        var composer = YAMLComposer()
        // libyaml reads the bytes in place: parsing stays inside their scope.
        let result = bytes.withUnsafeBufferPointer { input in
            yaml_parser_set_input_string(&parser, input.baseAddress, input.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            return Result { () throws(Manifest.ReadError) in try composer.compose(&parser) }
        }
        return try result.get()
    }

    /// A collection being read.
    private struct Open {
        enum Content {
            case sequence([JSONValue])
            /// Members so far, and the key read whose value comes next.
            case mapping([String: JSONValue], key: String?)
        }
        var content: Content
        var anchor: String?
        /// Nodes in this collection so far, itself included (what an alias of it costs).
        var size = 1
    }

    private mutating func compose(_ parser: inout yaml_parser_t) throws(Manifest.ReadError) -> [JSONValue] {
        var documents: [JSONValue] = []
        var stack: [Open] = []
        var root: JSONValue?
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { throw Self.failure(parser) }
            defer { yaml_event_delete(&event) }
            let mark = event.start_mark
            // A finished node, to hand to the collection it belongs to.
            var finished: Composed?
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return documents
            case YAML_DOCUMENT_START_EVENT:
                root = nil
                anchors = [:]
            case YAML_DOCUMENT_END_EVENT:
                documents.append(root ?? .null)
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else { throw Self.failure("found undefined alias \"\(name)\"", mark) }
                try charge(anchored.size, alias: true, mark)
                finished = anchored
            case YAML_SCALAR_EVENT:
                try charge(1, alias: false, mark)
                let s = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                let tag = s.quoted_implicit == 1 ? Tag.Name.str.rawValue : Self.string(s.tag)
                let style = Yams.Node.Scalar.Style(rawValue: s.style.rawValue) ?? .any
                let node = Composed(value: Self.scalar(text, tag: tag, style: style), size: 1, text: text)
                if let anchor = Self.string(s.anchor) { anchors[anchor] = node }
                finished = node
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                try charge(1, alias: false, mark)
                if case .mapping(_, key: nil)? = stack.last?.content {
                    throw Self.failure("mapping keys must be scalars", mark)
                }
                guard stack.count < JSONValue.maxNesting else {
                    throw Self.failure("nesting deeper than \(JSONValue.maxNesting)", mark)
                }
                let sequence = event.type == YAML_SEQUENCE_START_EVENT
                let anchor = Self.string(sequence ? event.data.sequence_start.anchor : event.data.mapping_start.anchor)
                stack.append(Open(content: sequence ? .sequence([]) : .mapping([:], key: nil), anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let closed = stack.removeLast()
                let value: JSONValue = switch closed.content {
                case .sequence(let items): .array(items)
                case .mapping(let members, _): .object(members)
                }
                let node = Composed(value: value, size: closed.size)
                if let anchor = closed.anchor { anchors[anchor] = node }
                finished = node
            default:
                break
            }
            guard let node = finished else { continue }
            guard var top = stack.popLast() else {
                root = node.value
                continue
            }
            top.size += node.size
            // Each case takes the collection out of `top` before changing it, so that it is
            // uniquely referenced and grows in place.
            switch top.content {
            case .sequence(var items):
                top.content = .sequence([])
                items.append(node.value)
                top.content = .sequence(items)
            case .mapping(let members, key: nil):
                guard let key = node.text else { throw Self.failure("mapping keys must be scalars", mark) }
                if members[key] != nil, key != "<<" { throw Self.failure("mapping key \"\(key)\" already defined", mark) }
                top.content = .mapping(members, key: key)
            case .mapping(var members, key: let key?):
                top.content = .mapping([:], key: nil)
                // Merge keys (`<<: *defaults`) are not used in Kubernetes manifests: dropped.
                if key != "<<" { members[key] = node.value }
                top.content = .mapping(members, key: nil)
            }
            stack.append(top)
        }
    }

    /// Counts `nodes` decoded (from an alias or not) and refuses excessive aliasing.
    private mutating func charge(_ nodes: Int, alias: Bool, _ mark: yaml_mark_t) throws(Manifest.ReadError) {
        decoded += nodes
        if alias { aliased += nodes }
        if aliased > 100, decoded > 1000, Double(aliased) / Double(decoded) > Self.allowedAliasRatio(decoded) {
            throw Self.failure("document contains excessive aliasing", mark)
        }
    }

    /// The share of nodes aliases may account for, by the number of nodes decoded.
    static func allowedAliasRatio(_ decoded: Int) -> Double {
        if decoded <= aliasRatioLow { return 0.99 }
        if decoded >= aliasRatioHigh { return 0.10 }
        return 0.99 - 0.89 * Double(decoded - aliasRatioLow) / Double(aliasRatioHigh - aliasRatioLow)
    }

    /// A scalar as JSON, typed as YAML 1.1 (Yams' resolver) types it: `null`, booleans, integers
    /// and floats; everything else, and every quoted scalar, a string. Base-60 numbers (`1:30`) stay
    /// strings, as go-yaml (what kubectl and kube-apiserver read YAML with) leaves them; Yams' reading
    /// of them traps past 64 bits.
    private static func scalar(_ text: String, tag: String?, style: Yams.Node.Scalar.Style) -> JSONValue {
        let node = Yams.Node.scalar(Yams.Node.Scalar(text, Tag(tag.map(Tag.Name.init(rawValue:)) ?? .implicit), style))
        let numeric = node.tag.rawValue == Tag.Name.int.rawValue || node.tag.rawValue == Tag.Name.float.rawValue
        if numeric, text.utf8.contains(UInt8(ascii: ":")) { return .string(text) }
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(text)
        case Tag.Name.int.rawValue:
            if let i = Int64(text) { return .int(i) }
            return node.int.map { .int(Int64($0)) } ?? .string(text)
        case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(text)
        default: return .string(text)
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func failure(_ problem: String, _ mark: yaml_mark_t) -> Manifest.ReadError {
        Manifest.ReadError(description: "invalid YAML: \(problem) at line \(mark.line + 1), column \(mark.column + 1)")
    }

    /// libyaml's own error, worded as Yams words it: context, problem, line and column.
    private static func failure(_ parser: yaml_parser_t) -> Manifest.ReadError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_READER_ERROR:
            return Manifest.ReadError(description: "invalid YAML: \(problem) at byte \(parser.problem_offset)")
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            let context = parser.context.map { String(cString: $0) + " " } ?? ""
            return Manifest.ReadError(description: "invalid YAML: \(context)\(problem) at line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1)")
        default:
            return Manifest.ReadError(description: "invalid YAML: \(problem)")
        }
    }
}
