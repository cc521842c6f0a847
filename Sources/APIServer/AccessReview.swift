import ClusterModel
import ControlPlane

/// `authorization.k8s.io/v1` SelfSubjectAccessReview (what `kubectl auth can-i` asks: may the
/// requesting user do a verb on a resource?) and SelfSubjectRulesReview (`kubectl auth can-i
/// --list`: what may the user do?). Answered from this server's authorisation: everyone with a
/// token may do everything, except members of `kubejournal:viewers`, who may only get, list and
/// watch. Nothing is stored; the review comes back with its status, as from kube-apiserver.
enum AccessReview {
    static let groupVersion = "authorization.k8s.io/v1"
    static let plural = "selfsubjectaccessreviews"
    static let rulesPlural = "selfsubjectrulesreviews"
    static let readVerbs: Set<String> = ["get", "list", "watch"]

    /// The group's entry in the resource list and in aggregated discovery.
    static let resource: JSONValue = [
        "name": .string(plural), "singularName": "selfsubjectaccessreview", "namespaced": false,
        "kind": "SelfSubjectAccessReview", "verbs": ["create"],
    ]

    static let rulesResource: JSONValue = [
        "name": .string(rulesPlural), "singularName": "selfsubjectrulesreview", "namespaced": false,
        "kind": "SelfSubjectRulesReview", "verbs": ["create"],
    ]

    static let resourceList: JSONValue = [
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": [resource, rulesResource],
    ]

    static let aggregated: JSONValue = [
        "metadata": ["name": "authorization.k8s.io"],
        "versions": [["version": "v1", "freshness": "Current", "resources": [
            ["resource": .string(plural), "responseKind": ["group": "authorization.k8s.io", "version": "v1", "kind": "SelfSubjectAccessReview"],
             "scope": "Cluster", "singularResource": "selfsubjectaccessreview", "verbs": ["create"]],
            ["resource": .string(rulesPlural), "responseKind": ["group": "authorization.k8s.io", "version": "v1", "kind": "SelfSubjectRulesReview"],
             "scope": "Cluster", "singularResource": "selfsubjectrulesreview", "verbs": ["create"]],
        ]]],
    ]

    /// The review `body` asks for, answered for `user`.
    static func answer(_ body: JSONValue, for user: UserInfo) throws(StatusError) -> JSONValue {
        guard let spec = body["spec"], spec["resourceAttributes"] != nil || spec["nonResourceAttributes"] != nil else {
            throw StatusError(.invalid, "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                              group: "authorization.k8s.io", kind: "SelfSubjectAccessReview")
        }
        let verb = (spec["resourceAttributes"] ?? spec["nonResourceAttributes"])?["verb"]?.stringValue ?? ""
        let allowed = !user.readOnly || readVerbs.contains(verb)
        var status: JSONValue = ["allowed": .bool(allowed)]
        status["reason"] = .string(allowed
            ? (user.readOnly ? "kubejournal: viewers may get, list and watch" : "kubejournal: authenticated users may do everything")
            : "kubejournal: members of \(UserInfo.viewersGroup) may only get, list and watch")
        if !allowed { status["denied"] = true }
        return ["kind": "SelfSubjectAccessReview", "apiVersion": .string(groupVersion), "metadata": ["creationTimestamp": .null],
                "spec": spec, "status": status]
    }

    /// What `user` may do (in the namespace `body` names): one rule for everything, or the read
    /// verbs on everything for a viewer.
    static func rules(_ body: JSONValue, for user: UserInfo) -> JSONValue {
        let verbs: JSONValue = user.readOnly ? ["get", "list", "watch"] : ["*"]
        return [
            "kind": "SelfSubjectRulesReview", "apiVersion": .string(groupVersion), "metadata": ["creationTimestamp": .null],
            "spec": body["spec"] ?? [:],
            "status": [
                "resourceRules": [["verbs": verbs, "apiGroups": ["*"], "resources": ["*"]]],
                "nonResourceRules": [["verbs": verbs, "nonResourceURLs": ["*"]]],
                "incomplete": false,
            ],
        ]
    }
}
