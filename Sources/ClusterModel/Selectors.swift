import Foundation

/// One requirement of a label selector: `app=web`, `tier!=db`, `env in (a,b)`, `env notin (c)`,
/// `gpu`, `!gpu`.
public struct LabelRequirement: Sendable, Hashable {
    public enum Op: Sendable, Hashable { case equals, notEquals, `in`, notIn, exists, doesNotExist }
    public var key: String
    public var op: Op
    public var values: [String]

    public init(key: String, op: Op, values: [String] = []) {
        self.key = key
        self.op = op
        self.values = values
    }

    /// From an apps/v1 `matchExpressions` entry.
    public init?(expression e: LabelSelectorRequirement) {
        switch e.operator {
        case "In": self.init(key: e.key, op: .in, values: e.values ?? [])
        case "NotIn": self.init(key: e.key, op: .notIn, values: e.values ?? [])
        case "Exists": self.init(key: e.key, op: .exists)
        case "DoesNotExist": self.init(key: e.key, op: .doesNotExist)
        default: return nil
        }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        let v = labels[key]
        switch op {
        case .equals: return v == values.first
        case .notEquals: return v != values.first
        case .in: return v.map(values.contains) ?? false
        case .notIn: return !(v.map(values.contains) ?? false)
        case .exists: return v != nil
        case .doesNotExist: return v == nil
        }
    }
}

/// A label selector: requirements that must all hold. The empty selector matches everything.
public struct LabelSelectorExpression: Sendable, Hashable, CustomStringConvertible {
    public var requirements: [LabelRequirement]

    public init(_ requirements: [LabelRequirement] = []) { self.requirements = requirements }

    /// From an apps/v1 selector (`matchLabels` and `matchExpressions`).
    public init(_ s: LabelSelector) {
        var r = (s.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { LabelRequirement(key: $0.key, op: .equals, values: [$0.value]) }
        r += (s.matchExpressions ?? []).compactMap(LabelRequirement.init(expression:))
        self.init(r)
    }

    /// From a Service's `selector` map.
    public init(labels: [String: String]) {
        self.init(labels.sorted { $0.key < $1.key }.map { LabelRequirement(key: $0.key, op: .equals, values: [$0.value]) })
    }

    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    public var isEmpty: Bool { requirements.isEmpty }

    /// A selector string that could not be parsed.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses `a=b,c!=d,e in (x,y),!f,g notin (z),h`.
    public init(parsing text: String) throws(ParseError) {
        var reqs: [LabelRequirement] = []
        var rest = Substring(text)
        func fail(_ why: String) -> ParseError {
            ParseError(description: "unable to parse requirement: \(why) in selector \"\(text)\"")
        }
        func skipSpaces() { rest = rest.drop { $0 == " " } }
        func word() -> String {
            let w = rest.prefix { !" ,=!()".contains($0) }
            rest = rest.dropFirst(w.count)
            return String(w)
        }
        skipSpaces()
        while !rest.isEmpty {
            skipSpaces()
            if rest.first == "!" {
                rest = rest.dropFirst()
                skipSpaces()
                let key = word()
                guard !key.isEmpty else { throw fail("missing key after '!'") }
                reqs.append(LabelRequirement(key: key, op: .doesNotExist))
            } else {
                let key = word()
                guard !key.isEmpty else { throw fail("found '\(rest.first.map(String.init) ?? "")', expected: identifier") }
                skipSpaces()
                if rest.hasPrefix("!=") {
                    rest = rest.dropFirst(2)
                    skipSpaces()
                    reqs.append(LabelRequirement(key: key, op: .notEquals, values: [word()]))
                } else if rest.hasPrefix("==") || rest.hasPrefix("=") {
                    rest = rest.dropFirst(rest.hasPrefix("==") ? 2 : 1)
                    skipSpaces()
                    reqs.append(LabelRequirement(key: key, op: .equals, values: [word()]))
                } else if rest.hasPrefix("in ") || rest.hasPrefix("in(") || rest.hasPrefix("notin ") || rest.hasPrefix("notin(") {
                    let notIn = rest.hasPrefix("notin")
                    rest = rest.dropFirst(notIn ? 5 : 2)
                    skipSpaces()
                    guard rest.first == "(" else { throw fail("found '\(rest.prefix(1))', expected: '('") }
                    rest = rest.dropFirst()
                    var values: [String] = []
                    while true {
                        skipSpaces()
                        let v = word()
                        values.append(v)
                        skipSpaces()
                        if rest.first == "," { rest = rest.dropFirst(); continue }
                        guard rest.first == ")" else { throw fail("found '\(rest.prefix(1))', expected: ',' or ')'") }
                        rest = rest.dropFirst()
                        break
                    }
                    reqs.append(LabelRequirement(key: key, op: notIn ? .notIn : .in, values: values.filter { !$0.isEmpty }))
                } else if rest.isEmpty || rest.first == "," {
                    reqs.append(LabelRequirement(key: key, op: .exists))
                } else {
                    throw fail("found '\(rest.prefix(1))', expected: '=', '!=', '==', 'in', 'notin'")
                }
            }
            skipSpaces()
            if rest.first == "," {
                rest = rest.dropFirst()
                guard !rest.drop(while: { $0 == " " }).isEmpty else { throw fail("found '', expected: identifier") }
            } else if !rest.isEmpty {
                throw fail("found '\(rest.prefix(1))', expected: ','")
            }
        }
        for r in reqs {
            if let problem = NameFormat.qualifiedNameProblem(r.key) { throw ParseError(description: "invalid label key \"\(r.key)\": \(problem)") }
            for v in r.values where !NameFormat.isLabelValue(v) {
                throw ParseError(description: "invalid label value: \"\(v)\": at key: \"\(r.key)\": \(NameFormat.labelValueMessage)")
            }
        }
        self.init(reqs)
    }

    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: "\(r.key)!=\(r.values.first ?? "")"
            case .in: "\(r.key) in (\(r.values.joined(separator: ",")))"
            case .notIn: "\(r.key) notin (\(r.values.joined(separator: ",")))"
            case .exists: r.key
            case .doesNotExist: "!\(r.key)"
            }
        }.joined(separator: ",")
    }
}

/// A field selector: `metadata.name=x,spec.nodeName!=node-1,status.phase=Running`.
public struct FieldSelectorExpression: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public var field: String
        public var equals: Bool
        public var value: String
    }

    public var terms: [Term]

    /// The fields each kind can be selected by.
    public static func supportedFields(_ kind: ResourceKind) -> [String] {
        ["metadata.name", "metadata.namespace"] + kind.definition.selectableFields
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(parsing text: String, kind: ResourceKind) throws(ParseError) {
        var terms: [Term] = []
        for part in text.split(separator: ",") {
            let s = String(part).trimmingCharacters(in: .whitespaces)
            let (field, equals, value): (String, Bool, String)
            if let r = s.range(of: "!=") {
                (field, equals, value) = (String(s[..<r.lowerBound]), false, String(s[r.upperBound...]))
            } else if let r = s.range(of: "==") ?? s.range(of: "=") {
                (field, equals, value) = (String(s[..<r.lowerBound]), true, String(s[r.upperBound...]))
            } else {
                throw ParseError(description: "invalid selector: '\(text)'; can't understand '\(s)'")
            }
            guard Self.supportedFields(kind).contains(field) else {
                throw ParseError(description: "field label not supported: \(field)")
            }
            terms.append(Term(field: field, equals: equals, value: value))
        }
        self.terms = terms
    }

    /// Whether the object's fields (as `fieldValues` gives them) satisfy every term.
    public func matches(_ fieldValue: (String) -> String) -> Bool {
        terms.allSatisfy { t in (fieldValue(t.field) == t.value) == t.equals }
    }
}

extension Resource {
    /// The value of a field-selector field of this object (`""` when unset).
    public func fieldValue(_ field: String) -> String {
        switch field {
        case "metadata.name": return metadata.name ?? ""
        case "metadata.namespace": return metadata.namespace ?? ""
        default: break
        }
        return ResourceKind(of: Self.self).definition.fieldValue(self, field)
    }
}
