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

    /// The group-versions served: the legacy core group, apps and scheduling.k8s.io.
    static let groupVersions = ["v1", "apps/v1", "scheduling.k8s.io/v1"]

    static func kinds(in groupVersion: String) -> [ResourceKind] {
        ResourceKind.allCases.filter { $0.apiVersion == groupVersion }.sorted { $0.plural < $1.plural }
    }

    static func apiVersions(serverAddress: String) -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    static let groupList: JSONValue = [
        "kind": "APIGroupList", "apiVersion": "v1",
        "groups": [group("apps"), group("scheduling.k8s.io")],
    ]

    static func group(_ name: String) -> JSONValue {
        let v: JSONValue = ["groupVersion": .string("\(name)/v1"), "version": "v1"]
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": [v], "preferredVersion": v]
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
            if [.pod, .service, .deployment, .replicaSet].contains(kind) { r["categories"] = ["all"] }
            resources.append(r)
            if kind != .event, kind != .endpoints {
                resources.append(["name": .string("\(kind.plural)/status"), "singularName": "", "namespaced": .bool(kind.namespaced),
                                  "kind": .string(kind.kind), "verbs": ["get", "patch", "update"]])
            }
            if kind == .pod {
                resources.append(["name": "pods/binding", "singularName": "", "namespaced": true, "kind": "Binding", "verbs": ["create"]])
            }
            if kind == .deployment || kind == .replicaSet {
                resources.append(["name": .string("\(kind.plural)/scale"), "singularName": "", "namespaced": true, "group": "autoscaling",
                                  "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]])
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
            let group = kind.group, version = kind.apiVersion.split(separator: "/").last.map(String.init) ?? "v1"
            let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(kind.kind)]
            func operation(_ action: String) -> JSONValue {
                ["operationId": .string("\(action)\(kind.kind)"), "x-kubernetes-action": .string(action),
                 "x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                 "responses": ["200": ["description": "OK"], "401": ["description": "Unauthorized"]]]
            }
            let base = "/" + openAPIPath(groupVersion) + (kind.namespaced ? "/namespaces/{namespace}/" : "/") + kind.plural
            paths[base] = ["get": operation("list"), "post": operation("post")]
            paths[base + "/{name}"] = ["get": operation("get"), "put": operation("put"), "patch": operation("patch"), "delete": operation("delete")]
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths)]
    }

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
                let responseKind: JSONValue = ["group": .string(group), "version": "v1", "kind": .string(kind.kind)]
                var subresources: [JSONValue] = []
                if kind != .event, kind != .endpoints {
                    subresources.append(["subresource": "status", "responseKind": responseKind, "verbs": ["get", "patch", "update"]])
                }
                if kind == .pod {
                    subresources.append(["subresource": "binding", "responseKind": ["group": "", "version": "v1", "kind": "Binding"], "verbs": ["create"]])
                }
                if kind == .deployment || kind == .replicaSet {
                    subresources.append(["subresource": "scale", "responseKind": ["group": "autoscaling", "version": "v1", "kind": "Scale"],
                                         "verbs": ["get", "patch", "update"]])
                }
                var r: JSONValue = [
                    "resource": .string(kind.plural), "responseKind": responseKind, "scope": kind.namespaced ? "Namespaced" : "Cluster",
                    "singularResource": .string(kind.singular), "verbs": verbs, "shortNames": .array(kind.shortNames.map { .string($0) }),
                    "subresources": .array(subresources),
                ]
                if [.pod, .service, .deployment, .replicaSet].contains(kind) { r["categories"] = ["all"] }
                return r
            }
            let metadata: JSONValue = group.isEmpty ? [:] : ["name": .string(group)]
            return ["metadata": metadata, "versions": [["version": "v1", "resources": .array(resources), "freshness": "Current"]]]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": .array(items)]
    }
}
