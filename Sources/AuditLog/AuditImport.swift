import ClusterModel
import ControlPlane
import HeapModule
import Journal

/// What a cluster's audit log says happened to its objects, as journal events.
///
/// Every request that changed something (`create`, `update`, `patch`, `delete`,
/// `deletecollection`, and the subresources `status`, `binding`, `eviction` and `scale`) becomes
/// one write event at the time kube-apiserver finished it, by the actor its user names; a refused
/// request (code ≥ 400) becomes a `RequestRefused` that changes nothing. The stages of one request
/// fold into one (the latest stage wins), so `auditID` names exactly one event: it is the
/// event's `request`, which makes importing the same file twice a no-op.
///
/// The object written is the best the log holds, and an object that is not the whole truth says
/// so in the annotation `audit.kubejournal.io/content`:
/// - `responseObject` (RequestResponse): the object as kube-apiserver stored it (no annotation);
/// - `request`: the request's body (Request level): no server-set fields, no defaults;
/// - `patched`: a patch (Request level) applied to the object's last known state, as a strategic
///   merge patch for an object and as a JSON patch for a list (the log does not record which type
///   the client sent);
/// - `metadata`: nothing but the write's existence (Metadata level): the object's last known state,
///   or only its name.
public struct AuditImport: Sendable {
    /// How the log's requests were taken.
    public struct Summary: Sendable, Equatable {
        public var files = 0
        /// Audit events read, and how many of them were further stages of a request already read.
        public var auditEvents = 0
        public var foldedStages = 0
        /// Writes journalled, and refused requests.
        public var writes = 0
        public var refused = 0
        /// Writes whose object is not the whole object (see `AuditImport`).
        public var incomplete = 0
        /// Requests that changed nothing (reads, `exec`, `attach`, `log` …): not journalled.
        public var reads = 0
        /// Requests the log holds only as received (no later stage): their outcome is unknown, so
        /// they change nothing.
        public var unfinished = 0
        /// Requests already in the journal (their `auditID`), or older than its last event.
        public var alreadyImported = 0
        public var older = 0
        /// Requests further out of time order in the log than the window holds: journalled after
        /// later ones (the journal raises their time to keep its order).
        public var late = 0
        /// Writes of kinds KubeJournal does not model (ClusterRoles …): journalled, not projected.
        public var unmodelledKinds: Set<String> = []

        public init() {}
    }

    /// Events made and not yet handed over (`takeDrafts`).
    public private(set) var drafts: [EventDraft] = []
    public private(set) var summary = Summary()
    /// Each object's last known state, as the journal's bytes (what a patch applies to): a
    /// sixth of the memory of the parsed object.
    private var lastKnown: [ObjectKey: [UInt8]] = [:]
    /// Requests already in the journal, by `auditID`, and the time of its last event.
    private var known: Set<String> = []
    private var head = Timestamp(microseconds: .min)

    // The window: requests read and not yet taken, in time order.
    private let window: Int
    private var pending: [String: Pending] = [:]
    private var queue = Heap<Queued>()
    private var order = 0
    /// Requests taken out of the window, by `auditID`: a stage of one read later folds away.
    private var taken: Set<String> = []
    /// Requests that left the window only as received: they wait for their response.
    private var received: [String: Pending] = [:]
    private var lastTaken = Timestamp(microseconds: .min)

    private struct Pending {
        var order: Int
        var event: AuditEvent
        var version = 0
    }

    private struct Queued: Comparable {
        var time: Timestamp
        var order: Int
        var auditID: String
        var version: Int
        static func < (a: Queued, b: Queued) -> Bool { (a.time, a.order) < (b.time, b.order) }
        static func == (a: Queued, b: Queued) -> Bool { (a.time, a.order) == (b.time, b.order) }
    }

    static let mutatingVerbs: Set<String> = ["create", "update", "patch", "delete", "deletecollection"]
    static let stateSubresources: Set<String> = ["status", "binding", "eviction", "scale"]
    /// The annotation that says how much of an imported object the log held.
    public static let contentAnnotation = "audit.kubejournal.io/content"
    /// Requests held in time order at once by default: lines further out of order than this are
    /// journalled late (counted in `Summary.late`). kube-apiserver writes each request when it
    /// finishes, so its log is out of order only by the requests in flight together; a window
    /// of RequestResponse pod creations takes about 20 KB of memory per request.
    public static let defaultWindow = 10_000

    /// An import after what `journal` already holds: objects it knows are patched from their last
    /// state there, requests it has (by `auditID`) are skipped, and so is anything older than its
    /// last event. `window`: how many requests are held to be put in time order.
    public init(after journal: JournalView?, window: Int = AuditImport.defaultWindow) throws {
        self.window = max(1, window)
        if let journal {
            for e in try journal.events(in: 1...UInt64.max) {
                head = e.time
                if let id = e.request { known.insert(id) }
                guard let type = WriteType(rawValue: e.type) else { continue }
                lastKnown[e.object.key] = type == .deleted ? nil : e.data
            }
        }
    }

    /// Imports `files`, all of them, after what `journal` holds.
    public init(_ files: [AuditLogFile], after journal: JournalView?) throws {
        try self.init(after: journal)
        for file in files { try read(file) }
        finish()
    }

    /// Reads `file` into the import; `drain` is handed the events made each time `batch` of them
    /// are ready (the rest stay in `drafts`).
    public mutating func read(_ file: AuditLogFile, batch: Int = 10_000, drain: ([EventDraft]) throws -> Void = { _ in }) throws {
        summary.files += 1
        try file.read(preparing: Self.prepare) { events in
            add(events)
            if drafts.count >= batch { try drain(takeDrafts()) }
        }
    }

    /// Events read from a log, in the log's order. The stages of one request fold into one (the
    /// latest stage wins); requests are taken in the order their latest stage finished, once
    /// more than the window's worth are waiting.
    public mutating func add(_ events: [(line: Int, event: AuditEvent)]) {
        for (_, event) in events {
            summary.auditEvents += 1
            order += 1
            let id = event.auditID
            if var seen = pending[id] {
                summary.foldedStages += 1
                guard event.stageOrder > seen.event.stageOrder else { continue }
                seen.event = event
                seen.version += 1
                pending[id] = seen
                queue.insert(Queued(time: event.time, order: seen.order, auditID: id, version: seen.version))
            } else if var waiting = received.removeValue(forKey: id) {
                // The response of a request whose receipt left the window.
                summary.foldedStages += 1
                if event.stageOrder > waiting.event.stageOrder { waiting.event = event }
                pending[id] = waiting
                queue.insert(Queued(time: waiting.event.time, order: waiting.order, auditID: id, version: waiting.version))
            } else if taken.contains(id) {
                summary.foldedStages += 1
            } else {
                pending[id] = Pending(order: order, event: event)
                queue.insert(Queued(time: event.time, order: order, auditID: id, version: 0))
            }
            while pending.count > window, takeEarliest() {}
        }
    }

    /// No more events: takes every request still waiting.
    public mutating func finish() {
        while takeEarliest() {}
        summary.unfinished += received.count
        received.removeAll()
    }

    /// The events made so far, handed over.
    public mutating func takeDrafts() -> [EventDraft] {
        defer { drafts.removeAll(keepingCapacity: true) }
        return drafts
    }

    /// Takes the earliest waiting request; false when none waits.
    private mutating func takeEarliest() -> Bool {
        while let next = queue.popMin() {
            guard let request = pending[next.auditID], request.version == next.version else { continue }  // a stage since folded
            pending[next.auditID] = nil
            if request.event.stage == "RequestReceived" {
                received[next.auditID] = request
                return true
            }
            taken.insert(next.auditID)
            let event = request.event
            if known.contains(event.auditID) {
                summary.alreadyImported += 1
            } else if event.time < head {
                summary.older += 1
            } else {
                if event.time < lastTaken { summary.late += 1 }
                lastTaken = max(lastTaken, event.time)
                take(event)
            }
            return true
        }
        return false
    }

    // MARK: one request

    private mutating func take(_ e: AuditEvent) {
        let actor = Self.actor(e.effectiveUser.username)
        guard let ref = e.objectRef, Self.mutatingVerbs.contains(e.verb), ref.subresource.map(Self.stateSubresources.contains) ?? true else {
            // A read, or a request that changes no object (exec, attach, a non-resource URL).
            if let code = e.code, code >= 400 { refuse(e, actor) } else { summary.reads += 1 }
            return
        }
        if let code = e.code, code >= 400 { return refuse(e, actor) }
        let kind = Self.kind(of: ref, e.responseObject ?? e.requestObject)
        if ResourceKind(rawValue: kind) == nil { summary.unmodelledKinds.insert(kind) }
        if e.verb == "deletecollection" {
            for item in e.responseObject?["items"]?.arrayValue ?? [] {
                let name = item["metadata"]?["name"]?.stringValue ?? ""
                write(.deleted, e, actor, key: ObjectKey(kind: kind, namespace: Self.namespace(of: ref, kind: kind), name: name), object: item, content: nil)
            }
            return
        }
        let name = ref.name ?? e.responseObject?["metadata"]?["name"]?.stringValue ?? e.requestObject?["metadata"]?["name"]?.stringValue
        guard let name else {
            // A create with generateName whose response the log did not keep: no name to file it under.
            summary.reads += 1
            return
        }
        let key = ObjectKey(kind: kind, namespace: Self.namespace(of: ref, kind: kind), name: name)
        let last = lastKnown[key].flatMap { try? JSONValue.parse($0) }
        // The response holds the object when it is of the object's kind (not a Status, a Scale or an Eviction).
        let response = e.responseObject.flatMap { $0["kind"]?.stringValue == kind ? $0 : nil }
        switch (e.verb, ref.subresource) {
        case ("create", nil):
            if let response {
                write(.created, e, actor, key: key, object: response, content: nil, prepared: e.prepared)
            } else if let request = e.requestObject {
                write(.created, e, actor, key: key, object: request, content: "request")
            } else {
                write(.created, e, actor, key: key, object: last ?? Self.stub(kind, ref, name), content: "metadata")
            }
        case ("create", "binding"):
            var pod = response ?? last ?? Self.stub(kind, ref, name)
            if let node = e.requestObject?["target"]?["name"] { pod = pod.setting(["spec", "nodeName"], to: node) }
            write(.bound, e, actor, key: key, object: pod, content: response == nil ? (e.requestObject == nil ? "metadata" : "patched") : nil)
        case ("create", "eviction"):
            var pod = last ?? Self.stub(kind, ref, name)
            pod = pod.setting(["metadata", "deletionTimestamp"], to: .string(e.time.kubernetesTime))
            write(.deletionStarted, e, actor, key: key, object: pod, content: "metadata")
        case ("update", _), ("patch", _):
            let type: WriteType = ref.subresource == "status" ? .statusUpdated : .updated
            if let response {
                write(type, e, actor, key: key, object: response, content: nil, prepared: e.prepared)
            } else if ref.subresource == "scale", let replicas = (e.responseObject ?? e.requestObject)?["spec"]?["replicas"] {
                // A new replica count is a new spec: the next generation, as the server counts it.
                var scaled = last ?? Self.stub(kind, ref, name)
                if scaled["spec"]?["replicas"] != replicas, let generation = scaled["metadata"]?["generation"]?.intValue {
                    scaled = scaled.setting(["metadata", "generation"], to: .int(generation + 1))
                }
                write(type, e, actor, key: key, object: scaled.setting(["spec", "replicas"], to: replicas), content: "patched")
            } else if e.verb == "update", ref.subresource == nil, let request = e.requestObject {
                write(type, e, actor, key: key, object: request, content: "request")
            } else if e.verb == "patch", let patch = e.requestObject, let base = last, let patched = Self.patch(base, with: patch) {
                write(type, e, actor, key: key, object: patched, content: "patched")
            } else {
                write(type, e, actor, key: key, object: last ?? Self.stub(kind, ref, name), content: "metadata")
            }
        case ("delete", _):
            // Still there after the request: held by finalizers, or a pod given a grace period (its
            // kubelet removes it later).
            let metadata = response?["metadata"]
            let held = !(metadata?["finalizers"]?.arrayValue ?? []).isEmpty
            let graceful = kind == Pod.kind && actor.kind != "kubelet" && (metadata?["deletionGracePeriodSeconds"]?.intValue ?? 0) > 0
            if let response, metadata?["deletionTimestamp"] != nil, held || graceful {
                write(.deletionStarted, e, actor, key: key, object: response, content: nil, prepared: e.prepared)
            } else if response == nil, kind == Pod.kind, actor.kind != "kubelet" {
                // A pod's deletion by anyone but its kubelet is graceful; its kubelet removes it later.
                let pod = (last ?? Self.stub(kind, ref, name)).setting(["metadata", "deletionTimestamp"], to: .string(e.time.kubernetesTime))
                write(.deletionStarted, e, actor, key: key, object: pod, content: "metadata")
            } else {
                write(.deleted, e, actor, key: key, object: response ?? last ?? Self.stub(kind, ref, name), content: response == nil ? "metadata" : nil,
                      prepared: response == nil ? nil : e.prepared)
            }
        default:
            summary.reads += 1
        }
    }

    private mutating func refuse(_ e: AuditEvent, _ actor: Actor) {
        summary.refused += 1
        let ref = e.objectRef
        var data: [String: JSONValue] = ["verb": .string(e.verb), "requestURI": .string(e.requestURI), "code": .int(Int64(e.code ?? 0))]
        if let ref { data["resource"] = .string(ref.resource + (ref.subresource.map { "/" + $0 } ?? "")) }
        if let reason = e.reason { data["reason"] = .string(reason) }
        if let message = e.message { data["message"] = .string(message) }
        if let impersonator = e.impersonatedUser.map({ _ in e.user.username }) { data["impersonatedBy"] = .string(impersonator) }
        // A request about no one object is filed under `*` of its kind (a list), or under its path
        // (a non-resource URL).
        let kind = ref.map { Self.kind(of: $0, nil) } ?? "NonResourceURL"
        let namespace = ref.map { Self.namespace(of: $0, kind: kind) } ?? ""
        drafts.append(EventDraft(
            time: e.time, type: RequestEventType.refused, actor: actor,
            object: ObjectRef(kind: kind, namespace: namespace, name: ref?.name ?? (ref == nil ? e.requestURI : "*"), uid: ref?.uid ?? ""),
            request: e.auditID, data: JSONValue.object(data).serialized()))
    }

    /// Journals `object` as written by `e`; `prepared`: its data, made beside the parsing when the
    /// object is the one the log holds as stored (`prepare`).
    private mutating func write(_ type: WriteType, _ e: AuditEvent, _ actor: Actor, key: ObjectKey, object: JSONValue, content: String?,
                                prepared: [UInt8]? = nil) {
        summary.writes += 1
        if content != nil { summary.incomplete += 1 }
        let data = prepared ?? Self.normalized(object, key: key, by: e, content: content).serialized()
        lastKnown[key] = type == .deleted ? nil : data
        let uid = object["metadata"]?["uid"]?.stringValue ?? e.objectRef?.uid ?? ""
        drafts.append(EventDraft(
            time: e.time, type: type.rawValue, actor: actor,
            object: ObjectRef(kind: key.kind, namespace: key.namespace, name: key.name, uid: uid),
            request: e.auditID, data: data))
    }

    /// `object` as the journal keeps it: without a resourceVersion (the journal's revision is the
    /// resourceVersion on read), named by `key`, saying how much of it the log held (`content`)
    /// and, when `e` acted as another user, who sent it.
    static func normalized(_ object: JSONValue, key: ObjectKey, by e: AuditEvent, content: String?) -> JSONValue {
        var object = object.setting(["metadata", "resourceVersion"], to: nil)
        object = object.setting(["metadata", "name"], to: .string(key.name))
        if !key.namespace.isEmpty { object = object.setting(["metadata", "namespace"], to: .string(key.namespace)) }
        if content != nil || object["metadata"]?["annotations"]?[contentAnnotation] != nil {
            object = object.setting(["metadata", "annotations", contentAnnotation], to: content.map { .string($0) })
        }
        let impersonator = e.impersonatedUser.map { _ in JSONValue.string(e.user.username) }
        if impersonator != nil || object["metadata"]?["annotations"]?[impersonatorAnnotation] != nil {
            object = object.setting(["metadata", "annotations", impersonatorAnnotation], to: impersonator)
        }
        return object
    }

    /// Work on `e` that needs nothing but `e`, done beside the parsing on every core: when the log
    /// holds the object as stored (`responseObject` of the request's kind), its journal data, and
    /// the request body, which is then not needed, let go.
    static func prepare(_ e: inout AuditEvent) {
        guard e.stage != "RequestReceived", let ref = e.objectRef, mutatingVerbs.contains(e.verb), e.verb != "deletecollection",
              (e.code ?? 0) < 400, let response = e.responseObject else { return }
        let kind = kind(of: ref, response)
        guard response["kind"]?.stringValue == kind, let name = ref.name ?? response["metadata"]?["name"]?.stringValue else { return }
        let key = ObjectKey(kind: kind, namespace: namespace(of: ref, kind: kind), name: name)
        e.requestObject = nil
        e.prepared = normalized(response, key: key, by: e, content: nil).serialized()
    }

    // MARK: reading a request

    /// The kind a request's resource names: a modelled kind of that group, else the kind its
    /// object says, else the resource itself.
    static func kind(of ref: AuditObjectReference, _ object: JSONValue?) -> String {
        let group = ref.apiGroup ?? ""
        if let kind = modelledKinds[ref.resource] ?? ResourceKind(resource: ref.resource), kind.group == group || group == "extensions" && Self.fromExtensions.contains(kind.group) {
            return kind.rawValue
        }
        if let known = Self.unmodelledKinds[ref.resource] { return known }
        return object?["kind"]?.stringValue.flatMap { ["Status", "Scale", "Eviction", "Binding", "DeleteOptions"].contains($0) ? nil : $0 } ?? ref.resource
    }

    /// The modelled kinds by resource (what an `objectRef` names).
    static let modelledKinds = Dictionary(uniqueKeysWithValues: ResourceKind.allCases.map { ($0.plural, $0) })

    /// Groups whose kinds older clusters served under `extensions/v1beta1` (Deployments,
    /// DaemonSets, ReplicaSets, Ingresses).
    static let fromExtensions: Set<String> = ["apps", "networking.k8s.io"]

    /// Kinds KubeJournal does not model, by resource: so that a request whose log holds no object
    /// files its write under the same kind as one that does.
    static let unmodelledKinds: [String: String] = [
        "clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding", "roles": "Role", "rolebindings": "RoleBinding",
        "controllerrevisions": "ControllerRevision", "replicationcontrollers": "ReplicationController", "networkpolicies": "NetworkPolicy",
        "customresourcedefinitions": "CustomResourceDefinition", "validatingwebhookconfigurations": "ValidatingWebhookConfiguration",
        "mutatingwebhookconfigurations": "MutatingWebhookConfiguration", "csinodes": "CSINode", "volumeattachments": "VolumeAttachment",
        "certificatesigningrequests": "CertificateSigningRequest", "podsecuritypolicies": "PodSecurityPolicy",
    ]

    /// The namespace a request's object lives in: none for a cluster-scoped kind (the log names a
    /// namespace's own name as its namespace).
    static func namespace(of ref: AuditObjectReference, kind: String) -> String {
        if let modelled = ResourceKind(rawValue: kind), !modelled.namespaced { return "" }
        if ["ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
            "CSINode", "VolumeAttachment", "CertificateSigningRequest", "PodSecurityPolicy"].contains(kind) { return "" }
        return ref.namespace ?? ""
    }

    /// An object known only by its name.
    static func stub(_ kind: String, _ ref: AuditObjectReference, _ name: String) -> JSONValue {
        var metadata: [String: JSONValue] = ["name": .string(name)]
        let ns = namespace(of: ref, kind: kind)
        if !ns.isEmpty { metadata["namespace"] = .string(ns) }
        if let uid = ref.uid { metadata["uid"] = .string(uid) }
        let apiVersion = ref.apiGroup.map { $0.isEmpty ? "" : $0 + "/" } ?? ""
        return .object(["kind": .string(kind), "apiVersion": .string(apiVersion + (ref.apiVersion ?? "v1")), "metadata": .object(metadata)])
    }

    /// A patch from a request body applied to `base`: a list is a JSON patch, an object a
    /// strategic merge patch.
    static func patch(_ base: JSONValue, with patch: JSONValue) -> JSONValue? {
        if case .array = patch { return try? Patch.jsonPatch(base, patch) }
        return try? Patch.strategicMerge(base, patch)
    }

    /// The actor a Kubernetes user is: the scheduler, a controller of kube-controller-manager (by
    /// its service account), a node's kubelet, the API server itself, or a user.
    public static func actor(_ username: String) -> Actor {
        let controllerPrefix = "system:serviceaccount:kube-system:"
        switch username {
        case "system:kube-scheduler":
            return Actor(kind: "scheduler", name: "default-scheduler")
        case "system:kube-controller-manager":
            return Actor(kind: "controller", name: "kube-controller-manager")
        case "system:apiserver":
            return Actor(kind: "controlplane", name: "kube-apiserver")
        case "":
            return unauthenticated
        case _ where username.hasPrefix("system:node:"):
            return Actor(kind: "kubelet", name: String(username.dropFirst("system:node:".count)))
        case _ where username.hasPrefix(controllerPrefix):
            let account = String(username.dropFirst(controllerPrefix.count))
            if let name = controllerNames[account] { return Actor(kind: "controller", name: name) }
            if account.hasSuffix("-controller") { return Actor(kind: "controller", name: String(account.dropLast("-controller".count))) }
            return .user(username)
        default:
            return .user(username)
        }
    }

    /// The actor of a request that failed authentication (its audit event has no user).
    public static let unauthenticated = Actor(kind: "unauthenticated", name: "unknown")

    /// The annotation on an object written by a user acting as another (`--as`): who that was.
    public static let impersonatorAnnotation = "audit.kubejournal.io/impersonated-by"

    /// kube-controller-manager's service accounts whose controller KubeJournal names otherwise.
    static let controllerNames: [String: String] = [
        "generic-garbage-collector": "garbage-collector", "node-controller": "node-lifecycle", "daemon-set-controller": "daemonset",
        "endpoint-controller": "endpoints", "endpointslice-controller": "endpointslice", "persistent-volume-binder": "persistentvolume-binder",
        "service-account-controller": "serviceaccount", "replication-controller": "replicationcontroller",
    ]
}

