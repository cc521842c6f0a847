import ClusterModel
import Crypto
import Foundation

/// The documents clients read to learn what the server offers: `/version`, the group and resource
/// lists (`/api`, `/api/v1`, `/apis`, `/apis/apps/v1`) and an OpenAPI v3 index whose PATCH
/// operations declare `fieldValidation`, which tells kubectl to let the server validate fields.
enum Discovery {
    /// The Kubernetes version whose API this server follows.
    static let kubernetesMinor = "32"

    static let version: JSONValue = [
        "major": "1", "minor": .string(kubernetesMinor), "gitVersion": "v1.32.0-kubejournal", "gitCommit": "",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "swift6", "compiler": "swift", "platform": "linux/amd64",
    ]

    /// The group-versions served (the legacy core group `v1` first), from the registry.
    static let groupVersions = ResourceRegistry.groupVersions

    /// The named groups, each with its one served version.
    static let groups: [(name: String, version: String)] = groupVersions.filter { $0.contains("/") }.map {
        let parts = $0.split(separator: "/")
        return (String(parts[0]), String(parts[1]))
    }

    static func kinds(in groupVersion: String) -> [ResourceKind] {
        ResourceKind.allCases.filter { $0.apiVersion == groupVersion }.sorted { $0.plural < $1.plural }
    }

    static func apiVersions(serverAddress: String) -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    static let groupList: JSONValue = [
        "kind": "APIGroupList", "apiVersion": "v1",
        "groups": .array(groups.map { group($0.name, version: $0.version) } + [group("authorization.k8s.io", version: "v1")]),
    ]

    /// The version served of a named group (`v1` of `apps`, `v2` of `autoscaling`).
    static func version(of group: String) -> String? { groups.first { $0.name == group }?.version }

    static func group(_ name: String, version: String) -> JSONValue {
        let v: JSONValue = ["groupVersion": .string("\(name)/\(version)"), "version": .string(version)]
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": [v], "preferredVersion": v]
    }

    /// The kind a subresource's requests and responses carry.
    static func responseKind(of subresource: KindDefinition.Subresource, _ kind: ResourceKind) -> (group: String, version: String, kind: String) {
        switch subresource {
        case .status: (kind.group, kind.version, kind.kind)
        case .scale: ("autoscaling", "v1", "Scale")
        case .binding: ("", "v1", "Binding")
        case .eviction: ("policy", "v1", "Eviction")
        }
    }

    /// The verbs of a subresource.
    static func verbs(of subresource: KindDefinition.Subresource) -> JSONValue {
        switch subresource {
        case .status, .scale: ["get", "patch", "update"]
        case .binding, .eviction: ["create"]
        }
    }

    static let verbs: JSONValue = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// `/api/v1` or `/apis/apps/v1`.
    static func resourceList(_ groupVersion: String) -> JSONValue {
        var resources: [JSONValue] = []
        for kind in kinds(in: groupVersion) {
            var r: JSONValue = [
                "name": .string(kind.plural), "singularName": .string(kind.singular), "namespaced": .bool(kind.namespaced),
                "kind": .string(kind.kind), "verbs": verbs, "shortNames": .array(kind.shortNames.map { .string($0) }),
            ]
            if !kind.definition.categories.isEmpty { r["categories"] = .array(kind.definition.categories.map { .string($0) }) }
            resources.append(r)
            for sub in kind.definition.subresources {
                let response = responseKind(of: sub, kind)
                var entry: JSONValue = ["name": .string("\(kind.plural)/\(sub.rawValue)"), "singularName": "", "namespaced": .bool(kind.namespaced),
                                        "kind": .string(response.kind), "verbs": verbs(of: sub)]
                // A subresource of another group-version names both (kubectl drain looks for them on pods/eviction).
                if response.group != kind.group || response.version != kind.version {
                    entry["group"] = .string(response.group)
                    entry["version"] = .string(response.version)
                }
                resources.append(entry)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }

    /// The URL path of a group-version's documents: `api/v1`, `apis/apps/v1`.
    static func openAPIPath(_ groupVersion: String) -> String {
        groupVersion.contains("/") ? "apis/\(groupVersion)" : "api/\(groupVersion)"
    }

    /// `/openapi/v3`: where each group-version's document is, with a hash of its content.
    static let openAPIIndex: JSONValue = {
        var paths: [String: JSONValue] = [:]
        for gv in groupVersions {
            let hash = SHA256.hash(data: Array(openAPIDocument(gv).serialized())).prefix(8).map { String(format: "%02X", $0) }.joined()
            paths[openAPIPath(gv)] = ["serverRelativeURL": .string("/openapi/v3/\(openAPIPath(gv))?hash=\(hash)")]
        }
        return ["paths": .object(paths)]
    }()

    /// `/openapi/v3/api/v1` and `/openapi/v3/apis/apps/v1`: the operations on each kind, tagged with
    /// their group-version-kind. Schemas are not published; the server validates what it receives.
    static func openAPIDocument(_ groupVersion: String) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        let parameters: JSONValue = [
            ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true],
             "description": "Strict, Warn or Ignore: what to do with unknown or duplicate fields."],
            ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
        ]
        for kind in kinds(in: groupVersion) {
            let gvk: JSONValue = ["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]
            func operation(_ action: String) -> JSONValue {
                ["operationId": .string("\(action)\(kind.kind)"), "x-kubernetes-action": .string(action),
                 "x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                 "responses": ["200": ["description": "OK"], "401": ["description": "Unauthorized"]]]
            }
            let base = "/" + openAPIPath(groupVersion) + (kind.namespaced ? "/namespaces/{namespace}/" : "/") + kind.plural
            paths[base] = ["get": operation("list"), "post": operation("post")]
            paths[base + "/{name}"] = ["get": operation("get"), "put": operation("put"), "patch": operation("patch"), "delete": operation("delete")]
        }
        var schemas = OpenAPISchemas(referencePrefix: "#/components/schemas/")
        for kind in kinds(in: groupVersion) { schemas.add(kind) }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
                "components": ["schemas": .object(schemas.components)]]
    }

    /// `/openapi/v2`: every served kind's schema in one Swagger 2.0 document, for clients that
    /// read the older format.
    static let openAPIv2: JSONValue = {
        var schemas = OpenAPISchemas(referencePrefix: "#/definitions/")
        var paths: [String: JSONValue] = [:]
        for kind in ResourceKind.allCases {
            let name = schemas.add(kind)
            let base = "/" + openAPIPath(kind.apiVersion) + (kind.namespaced ? "/namespaces/{namespace}/" : "/") + kind.plural
            let gvk: JSONValue = ["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]
            let ok: JSONValue = ["200": ["description": "OK", "schema": ["$ref": .string("#/definitions/" + name)]]]
            paths[base + "/{name}"] = ["get": ["operationId": .string("read\(kind.kind)"), "x-kubernetes-action": "get",
                                               "x-kubernetes-group-version-kind": gvk, "responses": ok]]
        }
        return ["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
                "definitions": .object(schemas.components)]
    }()

    /// The content type of aggregated discovery documents.
    static let aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`): every group-version's resources in one
    /// document — `/api` for the core group, `/apis` for the others — so kubectl needs two
    /// requests instead of one per group-version.
    static func aggregated(core: Bool) -> JSONValue {
        let versions = groupVersions.filter { $0.contains("/") != core }
        let items: [JSONValue] = versions.map { gv in
            let group = gv.contains("/") ? String(gv.split(separator: "/")[0]) : ""
            let resources: [JSONValue] = kinds(in: gv).map { kind in
                let responseKind: JSONValue = ["group": .string(group), "version": .string(kind.version), "kind": .string(kind.kind)]
                let subresources: [JSONValue] = kind.definition.subresources.map { sub in
                    let response = Self.responseKind(of: sub, kind)
                    return ["subresource": .string(sub.rawValue), "verbs": verbs(of: sub),
                            "responseKind": ["group": .string(response.group), "version": .string(response.version), "kind": .string(response.kind)]]
                }
                var r: JSONValue = [
                    "resource": .string(kind.plural), "responseKind": responseKind, "scope": kind.namespaced ? "Namespaced" : "Cluster",
                    "singularResource": .string(kind.singular), "verbs": verbs, "shortNames": .array(kind.shortNames.map { .string($0) }),
                    "subresources": .array(subresources),
                ]
                if !kind.definition.categories.isEmpty { r["categories"] = .array(kind.definition.categories.map { .string($0) }) }
                return r
            }
            let metadata: JSONValue = group.isEmpty ? [:] : ["name": .string(group)]
            let version = gv.split(separator: "/").last.map(String.init) ?? gv
            return ["metadata": metadata, "versions": [["version": .string(version), "resources": .array(resources), "freshness": "Current"]]]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:],
                "items": .array(core ? items : items + [AccessReview.aggregated])]
    }
}
