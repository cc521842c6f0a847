import ClusterModel

/// kube-apiserver's audit policy (`audit.k8s.io/v1` Policy, the file of `--audit-policy-file`):
/// rules tried in order, the first that matches a request giving its level; a request no rule
/// matches is not logged.
public struct AuditPolicy: Sendable {
    /// `None`, `Metadata`, `Request`, `RequestResponse`: how much of a request is logged.
    public enum Level: String, Sendable, Comparable, CaseIterable {
        case none = "None", metadata = "Metadata", request = "Request", requestResponse = "RequestResponse"
        var order: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Level, b: Level) -> Bool { a.order < b.order }
    }

    /// What a rule matches on; empty lists match everything.
    public struct Rule: Sendable {
        public var level: Level
        public var users: [String] = []
        public var userGroups: [String] = []
        public var verbs: [String] = []
        /// `(group, resources, resourceNames)`: `resources` may name subresources (`pods/status`)
        /// and use `*` and `*/sub`.
        public var resources: [(group: String, resources: [String], resourceNames: [String])] = []
        public var namespaces: [String] = []
        /// Paths of requests that are not for resources; a trailing `*` matches a prefix.
        public var nonResourceURLs: [String] = []
        public var omitStages: [String]?
    }

    /// What the policy is asked about.
    public struct Request: Sendable {
        public var user: String
        public var groups: [String]
        public var verb: String
        public var path: String
        /// For a resource request: its group, resource, subresource, namespace and name.
        public var group: String?
        public var resource: String?
        public var subresource: String?
        public var namespace: String?
        public var name: String?

        public init(user: String, groups: [String], verb: String, path: String, group: String? = nil, resource: String? = nil,
                    subresource: String? = nil, namespace: String? = nil, name: String? = nil) {
            (self.user, self.groups, self.verb, self.path) = (user, groups, verb, path)
            (self.group, self.resource, self.subresource, self.namespace, self.name) = (group, resource, subresource, namespace, name)
        }
    }

    public var rules: [Rule]
    /// Stages never logged, for every rule.
    public var omitStages: [String]
    /// Leave `metadata.managedFields` out of logged objects.
    public var omitManagedFields: Bool

    /// Reads a policy file's text (YAML or JSON).
    public init(yaml text: String) throws(AuditLogError) {
        let documents: [JSONValue]
        do { documents = try Manifest.documents(text) } catch { throw AuditLogError("the audit policy is not YAML: \(error)") }
        guard documents.count == 1, let policy = documents.first else { throw AuditLogError("the audit policy file must hold one Policy") }
        guard policy["kind"]?.stringValue == "Policy", ["audit.k8s.io/v1", "audit.k8s.io/v1beta1"].contains(policy["apiVersion"]?.stringValue ?? "") else {
            throw AuditLogError("the audit policy file holds no audit.k8s.io/v1 Policy")
        }
        func strings(_ v: JSONValue?) -> [String] { v?.arrayValue?.compactMap(\.stringValue) ?? [] }
        omitStages = strings(policy["omitStages"])
        omitManagedFields = policy["omitManagedFields"] == .bool(true)
        var rules: [Rule] = []
        for (i, r) in (policy["rules"]?.arrayValue ?? []).enumerated() {
            guard let text = r["level"]?.stringValue, let level = Level(rawValue: text) else {
                throw AuditLogError("rules[\(i)].level: must be one of None, Metadata, Request, RequestResponse")
            }
            var rule = Rule(level: level)
            rule.users = strings(r["users"])
            rule.userGroups = strings(r["userGroups"])
            rule.verbs = strings(r["verbs"])
            rule.namespaces = strings(r["namespaces"])
            rule.nonResourceURLs = strings(r["nonResourceURLs"])
            rule.omitStages = r["omitStages"].map(strings)
            rule.resources = (r["resources"]?.arrayValue ?? []).map { ($0["group"]?.stringValue ?? "", strings($0["resources"]), strings($0["resourceNames"])) }
            rules.append(rule)
        }
        self.rules = rules
    }

    /// The level of `request` and the stages to leave out: the first matching rule's; `None`
    /// when no rule matches.
    public func level(of request: Request) -> (level: Level, omitStages: [String]) {
        for rule in rules where Self.matches(rule, request) {
            return (rule.level, omitStages + (rule.omitStages ?? []))
        }
        return (.none, omitStages)
    }

    static func matches(_ rule: Rule, _ r: Request) -> Bool {
        if !rule.users.isEmpty, !rule.users.contains(r.user) { return false }
        if !rule.userGroups.isEmpty, !rule.userGroups.contains(where: r.groups.contains) { return false }
        if !rule.verbs.isEmpty, !rule.verbs.contains(r.verb) { return false }
        guard let resource = r.resource else {
            // A non-resource request matches only rules that name non-resource URLs (or no kind of request).
            guard rule.resources.isEmpty, rule.namespaces.isEmpty else { return false }
            return rule.nonResourceURLs.isEmpty || rule.nonResourceURLs.contains { pattern in
                pattern.hasSuffix("*") ? r.path.hasPrefix(String(pattern.dropLast())) : r.path == pattern
            }
        }
        if !rule.nonResourceURLs.isEmpty { return false }
        if !rule.namespaces.isEmpty, !rule.namespaces.contains(r.namespace ?? "") { return false }
        if rule.resources.isEmpty { return true }
        let full = resource + (r.subresource.map { "/" + $0 } ?? "")
        return rule.resources.contains { g in
            guard g.group == (r.group ?? "") || g.group == "*" else { return false }
            let named = g.resources.isEmpty || g.resources.contains { pattern in
                pattern == full || pattern == "*" || pattern == "*/*"
                    || (pattern.hasPrefix("*/") && r.subresource == String(pattern.dropFirst(2)))
                    || (pattern.hasSuffix("/*") && r.subresource != nil && resource == String(pattern.dropLast(2)))
            }
            return named && (g.resourceNames.isEmpty || g.resourceNames.contains(r.name ?? ""))
        }
    }
}
