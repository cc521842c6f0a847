import ClusterModel
import ControlPlane
import Foundation

/// One HTTP request as the API sees it, independent of the HTTP server.
public struct APIRequest: Sendable {
    public var method: String
    /// The path without the query, e.g. `/api/v1/namespaces/default/pods`.
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// Who is asking (set by authentication).
    public var user: UserInfo?

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = [], user: UserInfo? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.user = user
    }

    /// Splits a request target (`/api/v1/pods?watch=1`) into path and decoded query. A parameter
    /// given twice keeps its first value, as Kubernetes' parameter codec does.
    public static func split(target: String) -> (path: String, query: [String: String]) {
        guard let q = target.firstIndex(of: "?") else { return (target.removingPercentEncoding ?? target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).replacingOccurrences(of: "+", with: " ") }
            let key = kv[0].removingPercentEncoding ?? kv[0]
            if query[key] == nil { query[key] = kv.count > 1 ? (kv[1].removingPercentEncoding ?? kv[1]) : "" }
        }
        let path = String(target[..<q])
        return (path.removingPercentEncoding ?? path, query)
    }

    /// The content type, without parameters, in lower case (`application/json` when none is given,
    /// as Kubernetes assumes).
    var contentType: String {
        (headers["content-type"] ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// Whether the client asked for aggregated discovery first (kubectl does).
    var wantsAggregatedDiscovery: Bool {
        headers["accept"]?.split(separator: ",").first.map { $0.contains("as=APIGroupDiscoveryList") && $0.contains("v=v2") } ?? false
    }

    /// Whether the client asked for a `Table` (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
    var wantsTable: Bool {
        guard let accept = headers["accept"] else { return false }
        return accept.split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }
}

/// What the API answers.
public enum APIResponse: Sendable {
    /// A JSON document with an HTTP status.
    case json(Int, JSONValue)
    /// A JSON document of a more specific media type (aggregated discovery).
    case document(Int, JSONValue, contentType: String)
    /// Plain text (metrics) with its content type.
    case text(Int, String, contentType: String)
    /// Bytes of another media type (the OpenAPI v2 document as protobuf).
    case bytes(Int, [UInt8], contentType: String)
    /// A stream of JSON lines (a watch), written as it is produced.
    case stream(ChunkStream)

    /// A Kubernetes `Status` for a failed request.
    static func status(_ e: StatusError) -> APIResponse { .json(Int(e.status.code), KubeStatus.failure(e)) }
}

/// The authenticated user: name, uid and groups, from the token file.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var uid: String
    public var groups: [String]

    public init(name: String, uid: String, groups: [String]) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }

    /// Members of this group may read everything and write nothing.
    public static let viewersGroup = "kubejournal:viewers"

    var readOnly: Bool { groups.contains(Self.viewersGroup) && !groups.contains("system:masters") }
}

/// `Status` objects, as the API returns for failures and some deletions.
enum KubeStatus {
    static func failure(_ e: StatusError) -> JSONValue {
        var details: [String: JSONValue] = [:]
        if let name = e.name { details["name"] = .string(name) }
        if let group = e.group, !group.isEmpty { details["group"] = .string(group) }
        if let kind = e.kind { details["kind"] = .string(kind) }
        if !e.causes.isEmpty {
            details["causes"] = .array(e.causes.map { .object(["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]) })
        }
        var status: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(e.message), "reason": .string(e.reason.rawValue), "code": .int(Int64(e.status.code)),
        ]
        if !details.isEmpty { status["details"] = .object(details) }
        return .object(status)
    }

    static func success(kind: String, name: String, group: String, uid: String?) -> JSONValue {
        var details: [String: JSONValue] = ["name": .string(name), "kind": .string(kind)]
        if !group.isEmpty { details["group"] = .string(group) }
        if let uid { details["uid"] = .string(uid) }
        return .object(["kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Success", "details": .object(details)])
    }
}
