import ClusterModel
import Journal

/// One `audit.k8s.io` Event, as kube-apiserver writes it (`v1`, or the older `v1beta1`, whose
/// time is `timestamp` where v1 has `stageTimestamp`). Only what an import reads is kept; other
/// fields (annotations, source IPs, a log shipper's own keys) are ignored.
public struct AuditEvent: Sendable {
    /// `Metadata`, `Request` or `RequestResponse` (`None` events are never written).
    public var level: String
    public var auditID: String
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    public var stage: String
    public var requestURI: String
    /// `create`, `update`, `patch`, `delete`, `deletecollection`, `get`, `list`, `watch` …
    public var verb: String
    /// Who sent the request, and whom it acted as (impersonation).
    public var user: AuditUser
    public var impersonatedUser: AuditUser?
    public var userAgent: String?
    public var objectRef: AuditObjectReference?
    /// `responseStatus`: the HTTP code and, for a failure, Kubernetes' reason and message.
    public var code: Int?
    public var reason: String?
    public var message: String?
    public var requestObject: JSONValue?
    public var responseObject: JSONValue?
    /// When the stage was reached: `stageTimestamp`, else v1beta1's `timestamp`, else when the
    /// request was received.
    public var time: Timestamp
    /// The journal data of the write, when it could be made from this event alone (`AuditImport.prepare`).
    var prepared: [UInt8]?

    /// The user the request acted as: the impersonated one, if any.
    public var effectiveUser: AuditUser { impersonatedUser ?? user }

    /// Reads one event. `document` is a decoded JSON or YAML document.
    public init(_ document: JSONValue) throws(AuditLogError) {
        guard case .object(let o) = document else { throw AuditLogError("not an audit event: a JSON object was expected") }
        if let kind = o["kind"]?.stringValue, kind != "Event" { throw AuditLogError("not an audit event: kind \(kind)") }
        if let apiVersion = o["apiVersion"]?.stringValue, !Self.apiVersions.contains(apiVersion) {
            throw AuditLogError("unknown apiVersion \"\(apiVersion)\" (this reads \(Self.apiVersions.joined(separator: " and ")))")
        }
        func required(_ key: String) throws(AuditLogError) -> String {
            guard let value = o[key]?.stringValue, !value.isEmpty else { throw AuditLogError("the audit event has no \(key)") }
            return value
        }
        func time(_ key: String) throws(AuditLogError) -> Timestamp? {
            guard let text = o[key]?.stringValue else { return nil }
            guard let t = Timestamp(rfc3339: text) else { throw AuditLogError("\(key) \"\(text)\" is not an RFC 3339 time") }
            return t
        }
        level = try required("level")
        auditID = try required("auditID")
        stage = try required("stage")
        requestURI = try required("requestURI")
        verb = try required("verb")
        guard let user = o["user"].flatMap(AuditUser.init) else { throw AuditLogError("the audit event has no user") }
        self.user = user
        impersonatedUser = o["impersonatedUser"].flatMap(AuditUser.init)
        userAgent = o["userAgent"]?.stringValue
        objectRef = o["objectRef"].flatMap(AuditObjectReference.init)
        let status = o["responseStatus"]
        code = status?["code"]?.intValue.map(Int.init)
        reason = status?["reason"]?.stringValue
        message = status?["message"]?.stringValue
        requestObject = o["requestObject"].flatMap { $0 == .null ? nil : $0 }
        responseObject = o["responseObject"].flatMap { $0 == .null ? nil : $0 }
        var stageTime: Timestamp?
        for key in ["stageTimestamp", "timestamp", "requestReceivedTimestamp"] where stageTime == nil { stageTime = try time(key) }
        guard let stageTime else { throw AuditLogError("the audit event has no stageTimestamp") }
        self.time = stageTime
    }

    /// The versions of audit.k8s.io this reads. Events without an apiVersion are read as v1.
    public static let apiVersions = ["audit.k8s.io/v1", "audit.k8s.io/v1beta1"]

    /// How far a request got: the later stage wins when one request's stages are folded.
    var stageOrder: Int {
        switch stage {
        case "RequestReceived": 0
        case "ResponseStarted": 1
        case "ResponseComplete": 2
        default: 3  // Panic
        }
    }
}

/// `user` and `impersonatedUser` of an audit event.
public struct AuditUser: Sendable, Equatable {
    public var username: String
    public var groups: [String]

    /// `{}` is a request that failed authentication: no user (username "").
    init?(_ json: JSONValue) {
        guard case .object = json else { return nil }
        username = json["username"]?.stringValue ?? ""
        groups = json["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// `objectRef` of an audit event: the resource a request was about.
public struct AuditObjectReference: Sendable, Equatable {
    public var resource: String
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiGroup: String?
    public var apiVersion: String?
    public var subresource: String?

    init?(_ json: JSONValue) {
        guard let resource = json["resource"]?.stringValue else { return nil }
        self.resource = resource
        namespace = json["namespace"]?.stringValue
        name = json["name"]?.stringValue
        uid = json["uid"]?.stringValue
        apiGroup = json["apiGroup"]?.stringValue
        apiVersion = json["apiVersion"]?.stringValue
        subresource = json["subresource"]?.stringValue
    }
}

/// Input that is not an audit log, or not one this reads; `description` names the file and line.
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
