import ClusterModel
import ControlPlane
import Foundation
import Journal
import Synchronization

/// The Kubernetes REST API over the Store: discovery, CRUD with subresources, list and watch,
/// Tables, `Status` errors, authentication and authorization. Independent of the HTTP server:
/// the routes (`KubeRoutes`) hand it an `APIRequest` and write the `APIResponse` it gives.
public final class KubeAPI: Sendable {
    public let store: Store
    let tokens: TokenFile
    let metrics: ServerMetrics
    let queries: JournalEndpoints
    let faults: FaultEndpoints
    /// How often an idle watch that allows bookmarks is told the revision it has reached.
    let bookmarkInterval: Duration
    /// Seconds a watch without `timeoutSeconds` lasts at least (`ServerLimits.minRequestTimeout`).
    let minRequestTimeout: Int
    /// How many revisions behind the head a watch may start (`ServerLimits.watchWindow`; 0: any).
    let watchWindow: UInt64
    private let address = Mutex("127.0.0.1:6443")
    /// Largest request body accepted (Kubernetes' limit).
    public static let maxBodyBytes = 3 * 1024 * 1024

    public init(store: Store, tokens: TokenFile, metrics: ServerMetrics, bookmarkInterval: Duration = .seconds(30), minRequestTimeout: Int = 1800,
                watchWindow: UInt64 = 0) {
        self.store = store
        self.watchWindow = watchWindow
        self.bookmarkInterval = bookmarkInterval
        self.minRequestTimeout = minRequestTimeout
        self.tokens = tokens
        self.metrics = metrics
        queries = JournalEndpoints(store: store, metrics: metrics)
        faults = FaultEndpoints(store: store)
    }

    /// The host:port clients reach the server at (told to discovery clients).
    public var serverAddress: String {
        get { address.withLock { $0 } }
        set { address.withLock { $0 = newValue } }
    }

    /// Paths that answer without a token.
    static func isPublic(path: String) -> Bool {
        ["/version", "/version/", "/healthz", "/livez", "/readyz"].contains(path)
    }

    /// The user a request's bearer token names, if any.
    func authenticate(authorization: String?) -> UserInfo? {
        tokens.authenticate(authorization)
    }

    // MARK: resources

    /// Where a resource request points: `namespaces/NS/pods/NAME/status` and the like.
    struct Target {
        var kind: ResourceKind
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    /// Where a request's path points (`/api/v1/…`, `/apis/GROUP/VERSION/…`), nil for a path
    /// that names no resource.
    static func target(path: String) -> Target? {
        let segments = path.split(separator: "/").map(String.init)
        if segments.count > 2, segments[0] == "api" { return target(groupVersion: segments[1], rest: Array(segments[2...])) }
        if segments.count > 3, segments[0] == "apis" { return target(groupVersion: "\(segments[1])/\(segments[2])", rest: Array(segments[3...])) }
        return nil
    }

    static func target(groupVersion: String, rest: [String]) -> Target? {
        var ns: String?
        var r = rest[...]
        if rest.count >= 3, rest[0] == "namespaces", !(rest.count == 3 && ["status", "finalize"].contains(rest[2])) {
            ns = rest[1]
            r = rest[2...]
        }
        guard (1...3).contains(r.count), let kind = Discovery.kinds(in: groupVersion).first(where: { $0.plural == r.first }) else { return nil }
        let name = r.count > 1 ? r[r.startIndex + 1] : nil
        if ns != nil, !kind.namespaced { return nil }
        if ns == nil, kind.namespaced, name != nil { return nil }
        return Target(kind: kind, namespace: ns, name: name, subresource: r.count > 2 ? r[r.startIndex + 2] : nil)
    }

    /// kube-apiserver's verbs on a resource; a watch is a `list` with `watch` set.
    enum Verb: String, Sendable {
        case list, get, create, update, patch, delete, deleteCollection = "deletecollection"
    }

    /// Answers `verb` on `t`, a request the router matched to a resource route.
    func serve(_ verb: Verb, _ r: APIRequest, _ t: Target) async throws(StatusError) -> APIResponse {
        if ![.get, .list].contains(verb), let user = r.user, user.readOnly {
            let resource = t.kind.plural + (t.subresource.map { "/" + $0 } ?? "")
            throw StatusError(.forbidden, "\(resource) is forbidden: User \"\(user.name)\" cannot \(verb.rawValue) resource \"\(resource)\" in API group \"\(t.kind.group)\""
                + (t.namespace.map { " in the namespace \"\($0)\"" } ?? (t.kind.namespaced ? "" : " at the cluster scope")),
                name: t.name, group: t.kind.group, kind: t.kind.plural)
        }
        let origin = Store.Origin(.user(r.user?.name ?? "anonymous"), request: r.headers["x-request-id"] ?? UUID().uuidString.lowercased(),
                                  fieldManager: Self.fieldManager(r))
        switch (verb, t.name, t.subresource) {
        case (.list, nil, nil):
            let options = try ListOptions(r)
            return options.watch ? try await watch(r, t, options) : try await list(r, t, options)
        case (.get, let name?, nil), (.get, let name?, "status"):
            let o = try await store.get(t.kind, namespace: t.namespace, name: name)
            return try respond(r, t.kind, o, code: 200, stored: true)
        case (.get, let name?, "scale"):
            return .json(200, try await scale(t, name))
        case (.create, nil, nil):
            let options = try WriteOptions(r, kind: "CreateOptions")
            let object = try decodeObject(r, t, strict: options.strict)
            return try respond(r, t.kind, try await create(object, origin, options.dryRun), code: 201, stored: !options.dryRun)
        case (.create, let name?, "binding"):
            let options = try WriteOptions(r, kind: "CreateOptions")
            let body = try Self.body(r)
            guard let node = body["target"]?["name"]?.stringValue, !node.isEmpty else {
                throw StatusError(.invalid, "Binding \"\(name)\" is invalid: target.name: Required value", name: name, kind: "bindings")
            }
            _ = try await store.bind(namespace: t.namespace ?? "default", pod: name, to: node, by: origin, dryRun: options.dryRun)
            return .json(201, KubeStatus.success(kind: "pods", name: name, group: "", uid: nil))
        case (.create, let name?, "eviction"):
            let body = try Self.body(r)
            if let named = body["metadata"]?["name"]?.stringValue, named != name {
                throw StatusError(.badRequest, "name in URL does not match name in Eviction object", name: name, kind: "pods")
            }
            let deleteOptions = body["deleteOptions"].flatMap { $0 == .null ? nil : $0 }
            let options = try DeleteOptions(r, body: deleteOptions ?? .object([:]))
            let dryRun = options.isDryRun || r.query["dryRun"] == "All"
            try await store.evict(namespace: t.namespace ?? "default", name: name, gracePeriodSeconds: options.gracePeriod,
                                  preconditionUID: options.preconditionUID, by: origin, dryRun: dryRun)
            return .json(201, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201])
        case (.update, let name?, let sub):
            let options = try WriteOptions(r, kind: "UpdateOptions")
            if sub == "scale" {
                return .json(200, try await setScale(t, name, replicas: try Self.replicas(try Self.body(r)), origin, options.dryRun))
            }
            guard sub == nil || sub == "status" else { break }
            let object = try decodeObject(r, t, strict: options.strict)
            guard object.metadata.name == name else {
                throw StatusError(.badRequest, "the name of the object (\(object.metadata.name ?? "")) does not match the name on the URL (\(name))")
            }
            let updated = sub == "status" ? try await updateStatus(object, origin, options.dryRun) : try await update(object, origin, options.dryRun)
            return try respond(r, t.kind, updated, code: 200, stored: !options.dryRun)
        case (.patch, let name?, nil) where r.contentType == Self.applyPatch:
            let options = try WriteOptions(r, kind: "PatchOptions", apply: true)
            let config = try Self.applyConfiguration(r, t, name: name)
            let (o, created) = try await store.apply(t.kind, namespace: t.namespace, name: name, config: config, force: options.force,
                                                     by: origin, dryRun: options.dryRun)
            return try respond(r, t.kind, o, code: created ? 201 : 200, stored: !options.dryRun)
        case (.patch, _?, let sub?) where r.contentType == Self.applyPatch:
            throw StatusError(.badRequest, "server-side apply to the \(sub) subresource is not supported here; apply to the object, or patch its \(sub)")
        case (.patch, let name?, let sub):
            guard let type = Store.PatchType(rawValue: r.contentType) else {
                throw StatusError(.unsupportedMediaType, "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml")
            }
            let options = try WriteOptions(r, kind: "PatchOptions", apply: false)
            let patch = try Self.patchBody(r)
            if sub == "scale" {
                let current = try await scale(t, name)
                let patched: JSONValue
                do { patched = try Self.apply(type, patch, to: current) } catch { throw StatusError(.badRequest, "\(error)") }
                return .json(200, try await setScale(t, name, replicas: try Self.replicas(patched), origin, options.dryRun))
            }
            guard sub == nil || sub == "status" else { break }
            let o = try await store.patch(t.kind, namespace: t.namespace, name: name, type: type, body: patch, status: sub == "status",
                                          by: origin, dryRun: options.dryRun, strict: options.strict)
            return try respond(r, t.kind, o, code: 200, stored: !options.dryRun)
        case (.delete, let name?, nil):
            let options = try DeleteOptions(r, body: r.body.isEmpty ? nil : try Self.body(r))
            let o = try await store.delete(
                t.kind, namespace: t.namespace, name: name, gracePeriodSeconds: options.gracePeriod,
                preconditionUID: options.preconditionUID, preconditionResourceVersion: options.preconditionResourceVersion,
                propagationPolicy: options.policy, by: origin, dryRun: options.isDryRun)
            return try respond(r, t.kind, o, code: 200)
        case (.deleteCollection, nil, nil):
            _ = try ListOptions(r)
            let options = try DeleteOptions(r, body: r.body.isEmpty ? nil : try Self.body(r))
            let listed = try await store.list(t.kind, namespace: t.namespace, labelSelector: r.query["labelSelector"], fieldSelector: r.query["fieldSelector"])
            var deleted: [JSONValue] = []
            for o in listed.items {
                let gone = try await store.delete(t.kind, namespace: o.metadata.namespace, name: o.metadata.name ?? "", gracePeriodSeconds: options.gracePeriod,
                                                  propagationPolicy: options.policy, by: origin, dryRun: options.isDryRun)
                deleted.append(try Self.json(gone))
            }
            return .json(200, Self.listDocument(t.kind, deleted, revision: store.signal.head, continueToken: nil))
        default: break
        }
        throw StatusError(.methodNotAllowed, "the server does not allow this method on the requested resource")
    }

    // MARK: reading

    /// A list: current, resumed from a `continue` token, or as of a past revision
    /// (`resourceVersionMatch=Exact`). `limit` of 0 or less is no limit, as in Kubernetes.
    private func list(_ r: APIRequest, _ t: Target, _ options: ListOptions) async throws(StatusError) -> APIResponse {
        if options.continueToken != nil, let rv = options.resourceVersion, rv != "0" {
            throw StatusError(.badRequest, "specifying resource version is not allowed when using continue")
        }
        let revision = try options.revision(of: t.kind)
        let exact = options.resourceVersionMatch == ListOptions.exact
        if exact, revision > store.signal.head {
            throw StatusError(.gone, "Timeout: Too large resource version: \(revision), current: \(store.signal.head)")
        }
        let page = try await store.listStored(t.kind, namespace: t.namespace, labelSelector: r.query["labelSelector"], fieldSelector: r.query["fieldSelector"],
                                              limit: options.limit > 0 ? Int(options.limit) : nil, continue: options.continueToken,
                                              at: exact ? revision : nil)
        // The objects are read from the journal in place: a JSON list is their stored bytes with
        // `resourceVersion` spliced in, a Table their cells; neither decodes a pod.
        do {
            return try store.journal.read { view -> APIResponse in
                if r.wantsTable {
                    return .json(200, try Tables.table(t.kind, stored: page.objects, in: view, revision: page.revision, continueToken: page.continueToken,
                                                       includeObject: r.query["includeObject"], now: Date()))
                }
                return .bytes(200, try Self.listDocument(t.kind, page, in: view), contentType: "application/json")
            }
        } catch {
            throw StatusError(.internalError, "listing \(t.kind.plural) failed: \(error)")
        }
    }

    /// A `…List` document of stored objects, written as bytes.
    static func listDocument(_ kind: ResourceKind, _ page: Store.StoredList, in view: JournalView) throws -> [UInt8] {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        var out: [UInt8] = []
        out += #"{"kind":"#.utf8 + JSONValue.string(kind.kind + "List").serialized()
        out += #","apiVersion":"#.utf8 + JSONValue.string(kind.apiVersion).serialized()
        out += #","metadata":"#.utf8 + JSONValue.object(metadata).serialized()
        out += #","items":["#.utf8
        for (i, stored) in page.objects.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            try stored.appendJSON(in: view, to: &out)
        }
        out += "]}".utf8
        return out
    }

    static func listDocument(_ kind: ResourceKind, _ items: [JSONValue], revision: UInt64, continueToken: String?) -> JSONValue {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision))]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return ["kind": .string(kind.kind + "List"), "apiVersion": .string(kind.apiVersion), "metadata": .object(metadata), "items": .array(items)]
    }

    /// The answer with object `o`. When `stored` (`o` is an object as a write stored it, not a dry
    /// run's), its JSON is the write's bytes from the watch cache with `resourceVersion` spliced
    /// in: encoded once, for the journal, instead of again for the answer.
    private func respond(_ r: APIRequest, _ kind: ResourceKind, _ o: any Resource, code: Int, stored: Bool = false) throws(StatusError) -> APIResponse {
        if r.wantsTable, r.method == "GET" {
            let json = try Self.json(o)
            return .json(code, Tables.table(kind, [(o, json)], revision: nil, includeObject: r.query["includeObject"], now: Date()))
        }
        if stored, let revision = o.metadata.resourceVersion.flatMap(UInt64.init), let entry = store.watchCache.entry(at: revision),
           entry.type != .deleted, entry.object.kind == kind.rawValue, entry.object.name == o.metadata.name,
           entry.object.namespace == (o.metadata.namespace ?? ""), entry.object.uid == o.metadata.uid ?? "" {
            return .bytes(code, entry.versionedJSON(), contentType: "application/json")
        }
        return .json(code, try Self.json(o))
    }

    static func json(_ o: any Resource) throws(StatusError) -> JSONValue {
        do { return try ValueEncoder().encode(o) } catch { throw StatusError(.internalError, "encoding failed: \(error)") }
    }

    // MARK: bodies

    /// The media types an object body may come in.
    static let objectMediaTypes = ["application/json", "application/yaml", KubeProtobuf.contentType]

    /// The request body as JSON (or YAML or Kubernetes protobuf, by content type); malformed input
    /// names the position, another content type is a 415.
    static func body(_ r: APIRequest) throws(StatusError) -> JSONValue {
        let type = r.contentType
        guard objectMediaTypes.contains(type) else {
            throw StatusError(.unsupportedMediaType, "the body of the request was in an unknown format - accepted media types include: " + objectMediaTypes.joined(separator: ", "))
        }
        guard !r.body.isEmpty else { throw StatusError(.badRequest, "the request body is empty") }
        switch type {
        case KubeProtobuf.contentType:
            do { return try KubeProtobuf.decode(r.body) } catch { throw StatusError(.badRequest, "error decoding protobuf: \(error)") }
        case "application/yaml":
            do {
                guard let first = try Manifest.documents(r.body).first else {
                    throw StatusError(.badRequest, "the request body holds no YAML document")
                }
                return first
            } catch let e as StatusError {
                throw e
            } catch {
                throw StatusError(.badRequest, "error decoding YAML: \(error)")
            }
        default:
            do { return try JSONValue.parse(r.body) } catch { throw StatusError(.badRequest, "error decoding JSON: \(error)") }
        }
    }

    static let applyPatch = "application/apply-patch+yaml"

    /// The manager of a write's fields: `fieldManager`, else the product of the User-Agent
    /// (`kubectl/v1.32.4 (linux/amd64) …` → `kubectl`), as kube-apiserver derives it.
    static func fieldManager(_ r: APIRequest) -> String? {
        if let manager = r.query["fieldManager"], !manager.isEmpty { return manager }
        guard let agent = r.headers["user-agent"], let product = agent.split(separator: "/").first, !product.isEmpty else { return nil }
        return String(product.prefix(WriteOptions.fieldManagerMaxLength))
    }

    /// The body of a server-side apply: one object, in YAML or JSON, of the URL's kind and name,
    /// without `managedFields`.
    static func applyConfiguration(_ r: APIRequest, _ t: Target, name: String) throws(StatusError) -> JSONValue {
        let documents: [JSONValue]
        do { documents = try Manifest.documents(r.body) } catch { throw StatusError(.badRequest, "error decoding YAML: \(error)") }
        guard documents.count == 1, let config = documents.first, config.objectValue != nil else {
            throw StatusError(.badRequest, "error decoding YAML: the body must hold one object")
        }
        let kind = config["kind"]?.stringValue ?? "", version = config["apiVersion"]?.stringValue ?? ""
        guard kind == t.kind.kind, version == t.kind.apiVersion else {
            throw StatusError(.badRequest, "the API version in the data (\(version)) and kind (\(kind)) do not match the resource \(t.kind.apiVersion) \(t.kind.plural)")
        }
        if let named = config["metadata"]?["name"]?.stringValue, named != name {
            throw StatusError(.badRequest, "the name of the object (\(named)) does not match the name on the URL (\(name))")
        }
        if let ns = t.namespace, let given = config["metadata"]?["namespace"]?.stringValue, !given.isEmpty, given != ns {
            throw StatusError(.badRequest, "the namespace of the provided object does not match the namespace sent on the request")
        }
        if let managed = config["metadata"]?["managedFields"], managed != .null {
            throw StatusError(.badRequest, "metadata.managedFields must be nil")
        }
        return config
    }

    /// A patch document (JSON, whichever of the patch media types it came as).
    static func patchBody(_ r: APIRequest) throws(StatusError) -> JSONValue {
        guard !r.body.isEmpty else { throw StatusError(.badRequest, "the request body is empty") }
        do { return try JSONValue.parse(r.body) } catch { throw StatusError(.badRequest, "error decoding JSON: \(error)") }
    }

    /// `spec.replicas` of an autoscaling/v1 `Scale`: an int32, as Kubernetes decodes it.
    static func replicas(_ scale: JSONValue) throws(StatusError) -> Int64? {
        guard let value = scale["spec"]?["replicas"], value != .null else { return nil }
        guard case .int(let replicas) = value, Int64(Int32.min)...Int64(Int32.max) ~= replicas else {
            throw StatusError(.badRequest, "json: cannot unmarshal \(goJSONType(value)) into Go struct field ScaleSpec.spec.replicas of type int32")
        }
        return replicas
    }

    /// The body as an object of the target's kind; with `fieldValidation=Strict`, unknown fields are errors.
    private func decodeObject(_ r: APIRequest, _ t: Target, strict: Bool) throws(StatusError) -> any Resource {
        var json = try Self.body(r)
        // Like the API server, take the kind from the URL when the body leaves it out.
        let kindName = json["kind"]?.stringValue ?? t.kind.kind
        let version = json["apiVersion"]?.stringValue ?? t.kind.apiVersion
        json["kind"] = .string(kindName)
        json["apiVersion"] = .string(version)
        guard kindName == t.kind.kind, version == t.kind.apiVersion else {
            throw StatusError(.badRequest, "the API version in the data (\(version)) and kind (\(kindName)) do not match the resource \(t.kind.apiVersion) \(t.kind.plural)")
        }
        var object: any Resource
        do {
            object = try t.kind.decode(json, strict: strict)
        } catch {
            let what = "\(t.kind.kind) in version \"\(t.kind.apiVersion.split(separator: "/").last ?? "v1")\" cannot be handled as a \(t.kind.kind)"
            throw StatusError(.badRequest, "\(what): \(strict ? "strict decoding error: " : "")\(error)")
        }
        if let ns = t.namespace {
            if let given = object.metadata.namespace, !given.isEmpty, given != ns {
                throw StatusError(.badRequest, "the namespace of the provided object does not match the namespace sent on the request")
            }
            object.metadata.namespace = ns
        }
        return object
    }

    static func apply(_ type: Store.PatchType, _ patch: JSONValue, to doc: JSONValue) throws -> JSONValue {
        switch type {
        case .merge: Patch.mergePatch(doc, patch)
        case .strategic: try Patch.strategicMerge(doc, patch)
        case .json: try Patch.jsonPatch(doc, patch)
        }
    }

    // MARK: writing (opening the existential for the Store's generic methods)

    private func create(_ o: some Resource, _ origin: Store.Origin, _ dryRun: Bool) async throws(StatusError) -> any Resource {
        try await store.create(o, by: origin, dryRun: dryRun)
    }

    private func update(_ o: some Resource, _ origin: Store.Origin, _ dryRun: Bool) async throws(StatusError) -> any Resource {
        try await store.update(o, by: origin, dryRun: dryRun)
    }

    private func updateStatus(_ o: some Resource, _ origin: Store.Origin, _ dryRun: Bool) async throws(StatusError) -> any Resource {
        try await store.updateStatus(o, by: origin, dryRun: dryRun)
    }

    // MARK: scale

    /// The `autoscaling/v1` `Scale` of a kind with a scale subresource (Deployment, ReplicaSet, StatefulSet).
    private func scale(_ t: Target, _ name: String) async throws(StatusError) -> JSONValue {
        guard t.kind.definition.subresources.contains(.scale) else { throw StatusError(.notFound, "the server could not find the requested resource") }
        let o = try Self.json(try await store.get(t.kind, namespace: t.namespace, name: name))
        let selector = (o["spec"]?["selector"]?["matchLabels"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
        let meta = o["metadata"] ?? [:]
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": ["name": meta["name"] ?? "", "namespace": meta["namespace"] ?? "", "uid": meta["uid"] ?? "",
                         "resourceVersion": meta["resourceVersion"] ?? "", "creationTimestamp": meta["creationTimestamp"] ?? ""],
            "spec": ["replicas": o["spec"]?["replicas"] ?? 1],
            "status": ["replicas": o["status"]?["replicas"] ?? 0, "selector": .string(selector)],
        ]
    }

    private func setScale(_ t: Target, _ name: String, replicas: Int64?, _ origin: Store.Origin, _ dryRun: Bool) async throws(StatusError) -> JSONValue {
        guard let replicas, replicas >= 0 else {
            throw StatusError(.invalid, "Scale.autoscaling \"\(name)\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0",
                              name: name, group: "autoscaling", kind: "Scale")
        }
        _ = try await store.patch(t.kind, namespace: t.namespace, name: name, type: .merge, body: ["spec": ["replicas": .int(replicas)]],
                                  by: origin, dryRun: dryRun)
        return try await scale(t, name)
    }
}
