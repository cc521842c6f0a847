import AuditLog
import ClusterModel
import ControlPlane
import Foundation
import HTTPTypes
import Hummingbird
import Journal
import ServiceLifecycle
import Synchronization

/// `kj serve --audit-log`: kube-apiserver's audit log of the requests the server answers, under an
/// audit policy. KubeJournal's scheduler, controllers and kubelets write through the Store, not
/// over HTTP, so their writes are logged too, from the journal, as the requests their Kubernetes
/// counterparts would have sent (`AuditExport`): the log holds every write, as a real cluster's does.
public struct AuditBackend: Sendable {
    let writer: AuditLogWriter
    let policy: AuditPolicy

    public init(writer: AuditLogWriter, policy: AuditPolicy) {
        self.writer = writer
        self.policy = policy
    }

    /// Writes `event` (a whole RequestResponse event) at `level`: without the objects a lower
    /// level leaves out, and without managed fields if the policy says so.
    func record(_ event: JSONValue, level: AuditPolicy.Level) {
        guard level != .none, case .object(var o) = event else { return }
        o["level"] = .string(level.rawValue)
        if level < .requestResponse { o["responseObject"] = nil }
        if level < .request { o["requestObject"] = nil }
        if policy.omitManagedFields {
            for key in ["requestObject", "responseObject"] where o[key]?["metadata"]?["managedFields"] != nil {
                o[key]?["metadata"]?["managedFields"] = nil
            }
        }
        writer.write(JSONValue.object(o).serialized())
    }

    /// The level and omitted stages the policy gives a request of `user` (nil: none, a request
    /// that failed authentication) to `info`'s path.
    func level(of info: RequestInfo, _ ref: KubeAPI.AuditObjectRef?, user: UserInfo?) -> (level: AuditPolicy.Level, omitStages: [String]) {
        policy.level(of: AuditPolicy.Request(
            user: user?.name ?? "", groups: user?.groups ?? [], verb: info.verb, path: info.path, group: ref?.group, resource: ref?.resource,
            subresource: ref?.subresource, namespace: ref?.namespace, name: ref?.name))
    }

    /// What every event of a request says: who (`{}` for no user), what, when it was received.
    static func event(_ request: Request, auditID: String, info: RequestInfo, user: UserInfo?, received: Timestamp) -> [String: JSONValue] {
        var event: [String: JSONValue] = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": .string(auditID), "requestURI": .string(request.uri.string),
            "verb": .string(info.verb), "requestReceivedTimestamp": .string(received.rfc3339),
            "user": user.map { u in .object(["username": .string(u.name), "uid": .string(u.uid), "groups": .array(u.groups.map { .string($0) })]) } ?? .object([:]),
        ]
        if let agent = request.headers[.userAgent] { event["userAgent"] = .string(agent) }
        return event
    }
}

/// kube-apiserver's audit of a request refused for want of valid credentials
/// (`WithFailedAuthenticationAudit`): one event at stage `ResponseStarted`, with no user, the 401 and
/// the credentials it tried, at the level the policy gives a request of no user.
struct FailedAuthenticationAuditMiddleware: RouterMiddleware {
    let backend: AuditBackend?

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        guard let backend else { return try await next(request, context) }
        let received = WallClock().now()
        do {
            return try await next(request, context)
        } catch let error as StatusError where error.reason == .unauthorized && context.user == nil {
            let info = context.info
            let ref = KubeAPI.auditObjectRef(path: info.path)
            let (level, omitted) = backend.level(of: info, ref, user: nil)
            guard level != .none, !omitted.contains("ResponseStarted") else { throw error }
            var event = AuditBackend.event(request, auditID: request.headers[.xRequestID] ?? UUID().uuidString.lowercased(), info: info, user: nil,
                                           received: received)
            event["stage"] = "ResponseStarted"
            event["stageTimestamp"] = .string(WallClock().now().rfc3339)
            event["responseStatus"] = ["metadata": .object([:]), "message": .string(Self.attempted(request.headers)), "code": 401]
            if let ref { event["objectRef"] = ref.json }
            backend.record(.object(event), level: level)
            throw error
        }
    }

    /// What kube-apiserver says a failed authentication tried (`getAuthMethods`).
    static func attempted(_ headers: HTTPFields) -> String {
        let scheme = headers[.authorization]?.split(separator: " ").first.map { $0.lowercased() } ?? ""
        guard scheme == "basic" || scheme == "bearer" else { return "Authentication failed, no credentials provided" }
        return "Authentication failed, attempted: " + scheme
    }
}

/// Logs each request: `RequestReceived` when it arrives, `ResponseStarted` when a watch's response
/// begins, `ResponseComplete` when the response is written (with its code, and at level
/// RequestResponse its body). The request's `auditID` is the journal event's `request`, and the
/// response's `Audit-Id` header, as in kube-apiserver.
struct AuditMiddleware: RouterMiddleware {
    let backend: AuditBackend

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        guard let user = context.user else { return try await next(request, context) }
        let info = context.info
        let ref = KubeAPI.auditObjectRef(path: info.path)
        let (level, omitted) = backend.level(of: info, ref, user: user)
        guard level != .none else { return try await next(request, context) }
        var request = request
        let auditID = request.headers[.xRequestID] ?? UUID().uuidString.lowercased()
        // A write's body is read at every level: as in kube-apiserver, the objectRef takes the
        // object's name from it (a create's path names none); the object itself is logged from Request.
        var requestObject: JSONValue?
        if info.mutating, let length = request.headers[.contentLength].flatMap(Int.init), length <= KubeAPI.maxBodyBytes {
            let body = try await request.collectBody(upTo: KubeAPI.maxBodyBytes)
            requestObject = try? JSONValue.parse(Array(body.readableBytesView))
        }
        // The audit ID is the request's id: the journal event it makes names it.
        var head = request.head
        head.headerFields[.xRequestID] = auditID
        request = Request(head: head, body: request.body)
        let received = WallClock().now()
        var event = AuditBackend.event(request, auditID: auditID, info: info, user: user, received: received)
        if var ref {
            if ref.name == nil { ref.name = requestObject?["metadata"]?["name"]?.stringValue }
            event["objectRef"] = ref.json
        }
        if let requestObject { event["requestObject"] = requestObject }
        let backend = self.backend, common = event
        @Sendable func log(_ stage: String, _ extra: [String: JSONValue] = [:]) {
            guard !omitted.contains(stage) else { return }
            var e = common.merging(extra) { $1 }
            e["stage"] = .string(stage)
            e["stageTimestamp"] = .string(WallClock().now().rfc3339)
            backend.record(.object(e), level: level)
        }
        log("RequestReceived")
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // A refusal: its Status, as kube-apiserver logs it (reason and message included).
            let status = (error as? StatusError).map(KubeStatus.failure) ?? .object(["metadata": .object([:]), "code": .int(Int64(error.status.code))])
            log("ResponseComplete", ["responseStatus": status, "responseObject": status])
            throw error
        }
        response.headers[.auditID] = auditID
        let status: JSONValue = .object(["metadata": .object([:]), "code": .int(Int64(response.status.code))])
        if info.longRunning { log("ResponseStarted", ["responseStatus": status]) }
        // The body is seen as it is written: logged when it is done (a watch's, when the watch ends).
        let captured = Mutex<[UInt8]>([])
        let capture = (level == .requestResponse || info.mutating) && !info.longRunning
        let original = response.body
        response.body = ResponseBody(contentLength: original.contentLength) { writer in
            let body = original.map { buffer in
                if capture { captured.withLock { $0 += buffer.readableBytesView } }
                return buffer
            }
            try await body.write(writer)
            var extra: [String: JSONValue] = ["responseStatus": status]
            if capture, let object = try? JSONValue.parse(captured.withLock { $0 }) {
                extra["responseObject"] = object
                // A generated name and the uid are known once the object is made.
                if var ref = common["objectRef"], object["kind"]?.stringValue != "Status", let metadata = object["metadata"] {
                    if ref["name"] == nil, let name = metadata["name"] { ref["name"] = name }
                    if let uid = metadata["uid"] { ref["uid"] = uid }
                    extra["objectRef"] = ref
                }
            }
            log("ResponseComplete", extra)
        }
        return response
    }
}

/// Logs the writes of KubeJournal's own components (every write whose actor is not an API user)
/// from the journal, from the server's start (`after`: its `ControlPlaneStarted`), until it stops.
struct ComponentAuditService: ServiceLifecycle.Service {
    let backend: AuditBackend
    let store: Store
    let after: UInt64

    func run() async throws {
        let logged = Atomic<UInt64>(after)
        try await cancelOnGracefulShutdown { [self] in
            while !Task.isCancelled {
                await store.signal.wait(after: logged.load(ordering: .relaxed))
                logged.store(try logComponentWrites(after: logged.load(ordering: .relaxed)), ordering: .relaxed)
            }
        }
        // What the components wrote while the server stopped (they stop first).
        _ = try logComponentWrites(after: logged.load(ordering: .relaxed))
    }

    /// Logs the components' writes after revision `after`, up to the head; returns the head.
    private func logComponentWrites(after: UInt64) throws -> UInt64 {
        let head = store.signal.head
        guard head > after else { return after }
        let events = try store.journal.read { try $0.events(in: (after + 1)...head) }
        for e in events where e.actor.kind != "user" {
            guard let event = AuditExport.event(for: e), let ref = event["objectRef"] else { continue }
            let (level, omitted) = backend.policy.level(of: AuditPolicy.Request(
                user: event["user"]?["username"]?.stringValue ?? "", groups: event["user"]?["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                verb: event["verb"]?.stringValue ?? "", path: event["requestURI"]?.stringValue ?? "", group: ref["apiGroup"]?.stringValue ?? "",
                resource: ref["resource"]?.stringValue, subresource: ref["subresource"]?.stringValue, namespace: ref["namespace"]?.stringValue,
                name: ref["name"]?.stringValue))
            guard !omitted.contains("ResponseComplete") else { continue }
            backend.record(event, level: level)
        }
        return head
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-Id")!
    static let auditID = Self("Audit-Id")!
}

extension KubeAPI {
    /// An audit event's `objectRef` for a resource path.
    struct AuditObjectRef {
        var group: String
        var version: String
        var resource: String
        var subresource: String?
        var namespace: String?
        var name: String?

        var json: JSONValue {
            var o: [String: JSONValue] = ["resource": .string(resource), "apiVersion": .string(version)]
            if !group.isEmpty { o["apiGroup"] = .string(group) }
            if let namespace { o["namespace"] = .string(namespace) }
            if let name { o["name"] = .string(name) }
            if let subresource { o["subresource"] = .string(subresource) }
            return .object(o)
        }
    }

    /// The resource a path names, as an audit event's `objectRef`: nil for a path that names none.
    static func auditObjectRef(path: String) -> AuditObjectRef? {
        guard let t = target(path: path) else { return nil }
        return AuditObjectRef(group: t.kind.group, version: t.kind.version, resource: t.kind.plural, subresource: t.subresource, namespace: t.namespace, name: t.name)
    }
}
