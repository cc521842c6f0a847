import ClusterModel
import Crypto
import Foundation
import Journal
import Synchronization

/// The only write path: every successful write appends exactly one event and returns after it is
/// durable; a failed write appends nothing and throws a `StatusError`.
///
/// Writes are checked against the newest version of each object, including writes still being
/// committed, so concurrent writers are pipelined into the journal's group commit while
/// `resourceVersion` preconditions stay exact. The live `state` is the fold of the committed
/// events, applied in revision order.
public actor Store {
    public struct Options: Sendable {
        /// A snapshot of the projection is stored every this many events (0: never).
        public var snapshotInterval: UInt64
        /// The seed of a new journal (ids, generated names, tie-breaks); random when nil.
        public var seed: UInt64?
        /// Append on the Store's own thread instead of the journal's writer thread: faster when
        /// writes come strictly one after another (a simulation), slower with concurrent writers.
        public var synchronousAppends: Bool
        /// While the journal has no space, how long writes are refused outright before one may try
        /// again (whether space has come back).
        public var spaceRetryInterval: Duration
        /// The tolerations admission gives every new pod.
        public var admission: Defaults.Admission
        /// Set when this Store re-runs a recording (`kj replay verify`): the recording's inputs are
        /// appended where they were recorded, and every other append is checked against it.
        public var replay: (any ReplayGate)?
        /// Set when this Store re-runs a recording from its inputs (`kj replay run`): new objects
        /// get the names and uids the recording gave them, where it has them.
        public var identities: (any RecordedIdentities)?
        /// Write events the watch cache keeps (`WatchCache`); watchers further behind read the journal.
        public var watchCacheSize: Int

        public init(snapshotInterval: UInt64 = 10_000, seed: UInt64? = nil, synchronousAppends: Bool = false, spaceRetryInterval: Duration = .seconds(1),
                    admission: Defaults.Admission = Defaults.Admission(), replay: (any ReplayGate)? = nil, identities: (any RecordedIdentities)? = nil,
                    watchCacheSize: Int = 10_000) {
            self.snapshotInterval = snapshotInterval
            self.seed = seed
            self.synchronousAppends = synchronousAppends
            self.spaceRetryInterval = spaceRetryInterval
            self.admission = admission
            self.replay = replay
            self.identities = identities
            self.watchCacheSize = watchCacheSize
        }
    }

    /// Who made a write, and why.
    public struct Origin: Sendable {
        public var actor: Actor
        public var request: String?
        public var cause: UInt64?
        /// The request's `fieldManager` (or its User-Agent's product), for `metadata.managedFields`.
        public var fieldManager: String?
        /// A recorded write fed in again (a re-run): the object's `managedFields` are the recorded
        /// outcome and are kept as they are, rather than computed again.
        public var replaysRecordedFields: Bool

        public init(_ actor: Actor, request: String? = nil, cause: UInt64? = nil, fieldManager: String? = nil, replaysRecordedFields: Bool = false) {
            self.actor = actor
            self.request = request
            self.cause = cause
            self.fieldManager = fieldManager
            self.replaysRecordedFields = replaysRecordedFields
        }

        /// How a write of this origin keeps `managedFields`.
        func tracking(subresource: String?) -> FieldTracking { replaysRecordedFields ? .given : .update(subresource: subresource) }

        /// The manager the write's fields are recorded under: the request's, else the component's
        /// binary as Kubernetes names it.
        public var manager: String {
            if let fieldManager, !fieldManager.isEmpty { return fieldManager }
            switch actor.kind {
            case "controller": return "kube-controller-manager"
            case "scheduler": return "kube-scheduler"
            case "kubelet": return "kubelet"
            case "user": return "unknown"
            default: return "kube-apiserver"
            }
        }
    }

    /// How a write keeps `metadata.managedFields`.
    enum FieldTracking: Equatable {
        /// Server bookkeeping (binding, deletion): the entries stay as they are.
        case untracked
        /// An Update by the origin's manager, of the object or of its status.
        case update(subresource: String?)
        /// An apply, whose entries `FieldManager.apply` computed.
        case given
    }

    public nonisolated let journal: Journal
    public nonisolated let clock: any ClusterClock
    public nonisolated let options: Options
    /// The newest applied revision, for watchers.
    public nonisolated let signal: HeadSignal
    /// The seed recorded at revision 1.
    public nonisolated let seed: UInt64
    /// The tolerations admission gives every new pod (`Options.admission`, until a replay sets
    /// those of the run it re-runs).
    private nonisolated let admission: Mutex<Defaults.Admission>
    /// The typed objects of recent writes by revision, so an in-process cache (the components'
    /// driver) need not decode them from the journal again.
    public nonisolated let recent = RecentObjects()
    /// The newest writes, which every watch on this Store reads.
    public nonisolated let watchCache: WatchCache

    /// The fold of every committed event, up to `state.revision`.
    public private(set) var state: ClusterState
    private var pending: [ObjectKey: (object: (any Resource)?, revision: UInt64)] = [:]
    private var nextRevision: UInt64
    private var completed: [UInt64: Event] = [:]
    private var appliedWaiters: [UInt64: [CheckedContinuation<Void, Never>]] = [:]
    private var failure: String?
    /// Set while the journal has no room for writes (etcd's NOSPACE alarm); see `append`.
    private var outOfSpace: (message: String, lastTry: ContinuousClock.Instant)?
    /// Appends handed to the journal and not yet answered.
    private var inFlight = 0
    /// Set when an append was refused while others were under way: their predicted revisions may
    /// be off by the refused ones until every append has come back (`settleAfterRefusals`).
    private var revisionsUncertain = false
    /// Raised while writes are refused for lack of space, for metrics and logs.
    public nonisolated let spaceAlarm = SpaceAlarm()
    /// The snapshot being encoded and stored off the write path, if any.
    private var snapshotWrite: Task<Void, Never>?
    /// Typed copies of objects this Store wrote, so updates need not decode the current version
    /// from the journal. Valid while the revision matches the state's.
    private var written: [ObjectKey: (revision: UInt64, object: any Resource)] = [:]

    // MARK: opening

    /// Folds the journal (from its newest snapshot) into the live state. A new, empty journal is
    /// initialised first: revision 1 records the seed, then the namespaces kube-apiserver makes are
    /// created: `default`, `kube-system`, `kube-public` and `kube-node-lease` (the kubelets' leases).
    public static func open(journal: Journal, clock: any ClusterClock = WallClock(), options: Options = Options()) async throws -> Store {
        if try journal.head().revision == 0 {
            let seed = options.seed ?? UInt64.random(in: 1...UInt64.max)
            let now = clock.now()
            var drafts = [EventDraft(
                time: now, type: ClusterEventType.initialized, actor: .bootstrap,
                object: ObjectRef(kind: "Cluster", name: "cluster"),
                data: ClusterInitialized(seed: seed, formatVersion: Int64(Journal.formatVersion)).json.serialized())]
            for (i, name) in ["default", "kube-system", "kube-public", Lease.nodeLeaseNamespace].enumerated() {
                var ns = Defaults.apply(Namespace(name: name))
                ns.metadata.uid = Identifiers.uid(seed: seed, revision: UInt64(i + 2))
                ns.metadata.creationTimestamp = now.kubernetesTime
                drafts.append(EventDraft(
                    time: now, type: WriteType.created.rawValue, actor: .bootstrap,
                    object: ObjectRef(kind: Namespace.kind, name: name, uid: ns.metadata.uid!),
                    data: try ValueEncoder().encode(ns).serialized()))
            }
            _ = try await journal.append(drafts)
        }
        let state = try Projection.state(of: journal)
        let seed = try journal.read { try ClusterSeed.read(in: $0) }
        return Store(journal: journal, clock: clock, options: options, state: state, seed: seed)
    }

    private init(journal: Journal, clock: any ClusterClock, options: Options, state: ClusterState, seed: UInt64) {
        self.journal = journal
        self.clock = clock
        self.options = options
        self.state = state
        self.seed = seed
        self.nextRevision = state.revision + 1
        self.signal = HeadSignal(head: state.revision)
        watchCache = WatchCache(head: state.revision, capacity: options.watchCacheSize)
        self.admission = Mutex(options.admission)
    }

    /// Gives new pods the tolerations `admission` says from now on (a replay entering a run of
    /// `kj serve` that was started with other DefaultTolerationSeconds settings).
    public nonisolated func admit(with admission: Defaults.Admission) {
        self.admission.withLock { $0 = admission }
    }

    // MARK: reading

    /// The object, as of the newest applied revision.
    public func get(_ kind: ResourceKind, namespace: String?, name: String) throws(StatusError) -> any Resource {
        let key = Self.key(kind, namespace, name)
        guard let stored = state.object(key) else { throw Self.notFound(kind, name) }
        return try decode(stored)
    }

    /// A typed object, as of the newest applied revision.
    public func get<R: Resource>(_ type: R.Type, namespace: String? = nil, name: String) throws(StatusError) -> R {
        try get(ResourceKind(of: type), namespace: namespace, name: name) as! R
    }

    /// A list and the revision it reflects.
    public struct ListResult: Sendable {
        public var items: [any Resource]
        public var revision: UInt64
        /// Present when `limit` cut the list: pass it back as `continue`.
        public var continueToken: String?

        public init(items: [any Resource], revision: UInt64, continueToken: String? = nil) {
            self.items = items
            self.revision = revision
            self.continueToken = continueToken
        }
    }

    /// A page of a list: which objects, not yet read from the journal.
    public struct StoredList: Sendable {
        public var objects: [StoredObject]
        public var revision: UInt64
        /// Present when `limit` cut the list: pass it back as `continue`.
        public var continueToken: String?
    }

    /// Objects of `kind` matching the selectors, sorted by namespace and name, decoded. A
    /// `continue` token resumes a list at the revision it began at, even after later writes.
    public nonisolated func list(
        _ kind: ResourceKind, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        limit: Int? = nil, continue token: String? = nil
    ) async throws(StatusError) -> ListResult {
        let page = try await listStored(kind, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, limit: limit, continue: token)
        do {
            let items = try journal.read { view in try page.objects.map { try $0.decode(in: view) } }
            return ListResult(items: items, revision: page.revision, continueToken: page.continueToken)
        } catch {
            throw StatusError(.internalError, "listing \(kind.plural) failed: \(error)")
        }
    }

    /// Like `list`, but the objects are left in the journal: labels are read in place from the
    /// stored bytes, and objects are decoded only for a field selector. The work is done off the
    /// Store's actor, on a copy of the state taken when the list begins, so a list of 150,000 pods
    /// does not hold writes back.
    /// With `revision`, the list is of the state at that past revision (`resourceVersionMatch=Exact`).
    public nonisolated func listStored(
        _ kind: ResourceKind, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        limit: Int? = nil, continue token: String? = nil, at revision: UInt64? = nil
    ) async throws(StatusError) -> StoredList {
        var labels: LabelSelectorExpression?
        var fields: FieldSelectorExpression?
        do {
            if let labelSelector, !labelSelector.isEmpty { labels = try LabelSelectorExpression(parsing: labelSelector) }
            if let fieldSelector, !fieldSelector.isEmpty { fields = try FieldSelectorExpression(parsing: fieldSelector, kind: kind) }
        } catch {
            throw StatusError(.badRequest, "\(error)")
        }
        var after: ObjectKey?
        var startRevision = revision
        if let token {
            guard let (rev, key) = ContinueToken.decode(token) else { throw StatusError(.badRequest, "continue key is not valid: the token cannot be decoded") }
            after = key
            startRevision = rev
        }
        var view = await state
        var objects: [StoredObject] = []
        var nextToken: String?
        do {
            try journal.read { reader in
                if let startRevision, startRevision != view.revision { view = try Projection.state(in: reader, at: startRevision, only: [kind]) }
                for stored in view.list(kind, namespace: namespace) where after.map({ stored.key > $0 }) ?? true {
                    if let labels, try !stored.withStoredJSON(in: reader, { labels.matches($0.labels) }) { continue }
                    if let fields, !fields.matches(try stored.decode(in: reader).fieldValue) { continue }
                    if let limit, limit > 0, objects.count == limit {
                        nextToken = ContinueToken.encode(revision: view.revision, after: objects.last!.key)
                        break
                    }
                    objects.append(stored)
                }
            }
        } catch {
            throw StatusError(.internalError, "listing \(kind.plural) failed: \(error)")
        }
        return StoredList(objects: objects, revision: view.revision, continueToken: nextToken)
    }

    /// Changes to objects of one kind after `revision`, then live (see `WatchStream`).
    public nonisolated func watch(_ filter: WatchFilter, from revision: UInt64) -> WatchStream {
        WatchStream(journal: journal, signal: signal, cache: watchCache, filter: filter, from: revision)
    }

    // MARK: writing

    /// Creates `object`. Fills in uid, creationTimestamp, generation, a generated name (from
    /// `generateName`) and the namespace (`default`), then defaults and validates it.
    ///
    /// Defaulting, validation and encoding run in the caller's task, in parallel with other
    /// writers; only the checks against the current state and the append are serialized.
    public nonisolated func create<R: Resource>(_ object: R, by origin: Origin, dryRun: Bool = false) async throws(StatusError) -> R {
        try await create(object, origin, dryRun: dryRun, fields: origin.tracking(subresource: nil))
    }

    private nonisolated func create<R: Resource>(_ object: R, _ origin: Origin, dryRun: Bool, fields: FieldTracking) async throws(StatusError) -> R {
        var o = Defaults.apply(object, admission: admission.withLock { $0 }).withTypeMeta()
        if R.namespaced {
            if (o.metadata.namespace ?? "").isEmpty { o.metadata.namespace = "default" }
        } else {
            o.metadata.namespace = nil
        }
        let generated = (o.metadata.name ?? "").isEmpty ? o.metadata.generateName.map { String($0.prefix(58)) } : nil
        if let generated {
            // Validate with a stand-in for the suffix the Store will choose (same length and alphabet).
            var probe = o
            probe.metadata.name = generated + "bbbbb"
            try Self.check(Validation.validate(probe), probe)
        } else {
            try Self.check(Validation.validate(o), o)
        }
        o.metadata.resourceVersion = nil
        o.metadata.deletionTimestamp = nil
        o.metadata.deletionGracePeriodSeconds = nil
        var json = try Self.encode(o)
        if case .update = fields {
            // As in kube-apiserver, the creator owns what it sent (with the scheme's defaults), not
            // what admission and the server add afterwards (a Job's selector, a Service's address).
            let base = Self.baseEntries(requested: o.metadata.managedFields, live: nil) ?? []
            let entries = FieldManager.update(ResourceKind(of: R.self), old: nil, new: json, entries: base, manager: origin.manager,
                                              subresource: nil, time: FieldManager.writeTime)
            o.metadata.managedFields = entries.isEmpty ? nil : entries
            json["metadata"]?["managedFields"] = entries.isEmpty ? nil : try Self.encode(entries)
        }
        return try await admit(o, json, generatedPrefix: generated, origin, dryRun: dryRun)
    }

    /// The serialized part of `create`: checks against the state, then identity, then the append.
    private func admit<R: Resource>(_ object: R, _ json: JSONValue, generatedPrefix: String?, _ origin: Origin, dryRun: Bool) async throws(StatusError) -> R {
        try await appendRecordedInputs(unless: dryRun)
        let kind = ResourceKind(of: R.self)
        var o = object, j = json
        if R.namespaced, let ns = o.metadata.namespace {
            let nsKey = ObjectKey(kind: Namespace.kind, name: ns)
            guard exists(nsKey) else { throw StatusError(.notFound, "namespaces \"\(ns)\" not found", name: ns, kind: "namespaces") }
            // kube-apiserver's NamespaceLifecycle admission: nothing new in a namespace being deleted.
            if let (namespace, _) = current(nsKey), namespace?.metadata.deletionTimestamp != nil {
                let name = o.metadata.name ?? generatedPrefix ?? ""
                throw StatusError(.forbidden, "\(kind.plural) \"\(name)\" is forbidden: unable to create new content in namespace \(ns) because it is being terminated",
                                  name: name, group: kind.group, kind: kind.plural)
            }
        }
        let rev = nextRevision
        if let pod = o as? Pod {
            o = try admitLimits(try admitPriority(pod)) as! R
            j = try Self.encode(o)
        } else if let service = o as? Service {
            o = try allocateAddresses(service, revision: rev) as! R
            j = try Self.encode(o)
        } else if var claim = o as? PersistentVolumeClaim, claim.spec?.storageClassName == nil, let name = defaultStorageClass() {
            // The DefaultStorageClass admission plugin: a claim that names no class gets the default one.
            claim.spec?.storageClassName = name
            o = claim as! R
            j = try Self.encode(o)
        }
        var meta = j["metadata"] ?? .object([:])
        if let prefix = generatedPrefix {
            // Like the API server (RetryGenerateName), another suffix when the first is taken.
            let recorded = options.identities?.nextName(kind: R.kind, namespace: o.metadata.namespace ?? "", generateName: prefix)
            for attempt in 0..<7 {
                o.metadata.name = (attempt == 0 ? recorded : nil) ?? prefix + Identifiers.nameSuffix(seed: seed, revision: rev, attempt: attempt)
                if !exists(o.objectKey) { break }
            }
            meta["name"] = .string(o.metadata.name!)
        }
        try admitQuota(o)
        let key = o.objectKey
        if exists(key) { throw StatusError(.alreadyExists, "\(kind.plural) \"\(key.name)\" already exists", name: key.name, group: kind.group, kind: kind.plural) }
        o.metadata.uid = options.identities?.nextUID(for: key) ?? Identifiers.uid(seed: seed, revision: rev)
        o.metadata.creationTimestamp = clock.now().kubernetesTime
        o.metadata.generation = 1
        meta["uid"] = .string(o.metadata.uid!)
        meta["creationTimestamp"] = .string(o.metadata.creationTimestamp!)
        meta["generation"] = .int(1)
        j["metadata"] = meta
        if let job = o as? Job {
            o = Defaults.jobIdentity(job) as! R
            let identity = try Self.encode(o)
            j["spec"] = identity["spec"]
            try Self.check(Validation.validate(o), o)
        }
        return try await commit(.created, o, json: j, origin, dryRun: dryRun)
    }

    /// Replaces spec and metadata of an existing object (its status is kept). A non-empty
    /// `metadata.resourceVersion` must be the current one, else Conflict. An update that changes
    /// nothing appends nothing and returns the object as it is.
    public func update<R: Resource>(_ object: R, by origin: Origin, dryRun: Bool = false) async throws(StatusError) -> R {
        try await update(object, origin, dryRun: dryRun, fields: origin.tracking(subresource: nil))
    }

    private func update<R: Resource>(_ object: R, _ origin: Origin, dryRun: Bool, fields: FieldTracking) async throws(StatusError) -> R {
        try await appendRecordedInputs(unless: dryRun)
        let (old, oldRevision) = try existing(object)
        var o = Defaults.apply(object).withTypeMeta()
        try precondition(o, old, oldRevision)
        o = Self.carryOver(server: old, into: o)
        o = o.withStatus(of: old)
        try Self.check(Validation.validate(o) + Validation.validateUpdate(old: old, new: o), o)
        if !o.sameSpec(as: old) { o.metadata.generation = (old.metadata.generation ?? 1) + 1 }
        return try await write(.updated, o, old: old, oldRevision: oldRevision, origin, dryRun: dryRun, fields: fields)
    }

    /// Replaces the status of an existing object (`…/status`); spec and metadata are kept.
    public func updateStatus<R: Resource>(_ object: R, by origin: Origin, dryRun: Bool = false) async throws(StatusError) -> R {
        try await appendRecordedInputs(unless: dryRun)
        let (old, oldRevision) = try existing(object)
        try precondition(object, old, oldRevision)
        let fields = origin.tracking(subresource: "status")
        var o = old.withStatus(of: object)
        if fields == .given { o.metadata.managedFields = object.metadata.managedFields }
        try Self.check(Validation.validate(o), o)
        return try await write(.statusUpdated, o, old: old, oldRevision: oldRevision, origin, dryRun: dryRun, fields: fields)
    }

    /// The patch formats of `patch(…)`.
    public enum PatchType: String, Sendable {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
    }

    /// Applies a patch to the current object (or its status) and writes the result.
    public func patch(
        _ kind: ResourceKind, namespace: String?, name: String, type: PatchType, body: JSONValue,
        status: Bool = false, by origin: Origin, dryRun: Bool = false, strict: Bool = false
    ) async throws(StatusError) -> any Resource {
        try await appendRecordedInputs(unless: dryRun)
        let key = Self.key(kind, namespace, name)
        guard let (old, oldRevision) = current(key), let old else { throw Self.notFound(kind, name) }
        var doc: JSONValue
        do {
            var meta = try ValueEncoder().encode(old)
            meta["metadata"]?["resourceVersion"] = .string(String(oldRevision))
            switch type {
            case .merge: doc = Patch.mergePatch(meta, body)
            case .strategic: doc = try Patch.strategicMerge(meta, body)
            case .json: doc = try Patch.jsonPatch(meta, body)
            }
        } catch let e as Patch.Failure {
            throw StatusError(.badRequest, e.description)
        } catch {
            throw StatusError(.internalError, "\(error)")
        }
        // A patch may not move the object (kube-apiserver's checkName).
        doc["kind"] = .string(kind.kind)
        doc["apiVersion"] = .string(kind.apiVersion)
        if let patchedName = doc["metadata"]?["name"]?.stringValue, patchedName != name {
            throw StatusError(.badRequest, "the name of the object (\(patchedName)) does not match the name on the URL (\(name))")
        }
        if kind.namespaced, let patchedNamespace = doc["metadata"]?["namespace"]?.stringValue, !patchedNamespace.isEmpty, patchedNamespace != key.namespace {
            throw StatusError(.badRequest, "the namespace of the object (\(patchedNamespace)) does not match the namespace on the request (\(key.namespace))")
        }
        doc["metadata"]?["name"] = .string(name)
        if kind.namespaced { doc["metadata"]?["namespace"] = .string(key.namespace) }
        let patched: any Resource
        do {
            patched = try kind.decode(doc, strict: strict)
        } catch let e as DecodingFailure {
            throw StatusError(.badRequest, "\(kind.kind) in version \"\(kind.apiVersion)\" cannot be handled as a \(kind.kind): \(e)")
        } catch {
            throw StatusError(.badRequest, "\(error)")
        }
        return try await status ? updateStatus(patched, by: origin, dryRun: dryRun) : update(patched, by: origin, dryRun: dryRun)
    }

    /// Server-side apply (`application/apply-patch+yaml`): merges `config` into the object, or
    /// creates it, as `manager` (`FieldManager.apply`). Conflict (409, with a cause per field) when
    /// the configuration changes fields another manager owns, unless `force`. Returns the object
    /// and whether it was created.
    public func apply(
        _ kind: ResourceKind, namespace: String?, name: String, config: JSONValue, force: Bool,
        by origin: Origin, dryRun: Bool = false
    ) async throws(StatusError) -> (object: any Resource, created: Bool) {
        try await appendRecordedInputs(unless: dryRun)
        let key = Self.key(kind, namespace, name)
        var live: (any Resource)?
        var liveJSON: JSONValue?
        if let (found, revision) = current(key), let found {
            live = found
            liveJSON = try Self.encode(found)
            liveJSON?["metadata"]?["resourceVersion"] = .string(String(revision))
        }
        var merged: JSONValue
        var entries: [ManagedFieldsEntry]
        do {
            (merged, entries) = try FieldManager.apply(
                kind, live: liveJSON, config: config, entries: live?.metadata.managedFields ?? [],
                manager: origin.manager, force: force, time: FieldManager.writeTime) { json in
                    func defaulted<R: Resource>(_ o: R) throws -> JSONValue { try ValueEncoder().encode(Defaults.apply(o)) }
                    return try defaulted(try kind.decode(json, strict: false))
                }
        } catch let conflicts as FieldManager.Conflicts {
            throw StatusError(.conflict, conflicts.description, causes: conflicts.conflicts.map {
                StatusError.Cause(reason: "FieldManagerConflict", message: "conflict with \($0.manager)", field: $0.field)
            })
        } catch {
            let gvk = "\(kind.group.isEmpty ? "" : kind.group)/\(kind.version), Kind=\(kind.kind)"
            throw StatusError(.badRequest, "failed to create typed patch object (\(key.namespace)/\(name); \(gvk)): \(error)")
        }
        merged["kind"] = .string(kind.kind)
        merged["apiVersion"] = .string(kind.apiVersion)
        merged["metadata"]?["name"] = .string(name)
        if kind.namespaced { merged["metadata"]?["namespace"] = .string(key.namespace) }
        var object: any Resource
        do {
            object = try kind.decode(merged, strict: false)
        } catch {
            throw StatusError(.badRequest, "\(kind.kind) in version \"\(kind.version)\" cannot be handled as a \(kind.kind): \(error)")
        }
        object.metadata.managedFields = entries.isEmpty ? nil : entries
        func write<R: Resource>(_ o: R) async throws(StatusError) -> any Resource {
            live == nil ? try await create(o, origin, dryRun: dryRun, fields: .given) : try await update(o, origin, dryRun: dryRun, fields: .given)
        }
        return (try await write(object), live == nil)
    }

    /// `pods/binding`: sets `spec.nodeName` once and the PodScheduled condition; a pod already
    /// bound is a Conflict.
    public func bind(namespace: String, pod name: String, to node: String, by origin: Origin, dryRun: Bool = false) async throws(StatusError) -> Pod {
        try await appendRecordedInputs(unless: dryRun)
        let key = ObjectKey(kind: Pod.kind, namespace: namespace, name: name)
        guard let (obj, revision) = current(key), var pod = obj as? Pod else { throw Self.notFound(.pod, name) }
        if let bound = pod.spec.nodeName, !bound.isEmpty {
            throw StatusError(.conflict, "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is already assigned to node \"\(bound)\"", name: name, kind: "pods/binding")
        }
        if pod.metadata.deletionTimestamp != nil {
            throw StatusError(.conflict, "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is being deleted, cannot be assigned to a host", name: name, kind: "pods/binding")
        }
        guard NameFormat.isDNS1123Subdomain(node) else {
            throw StatusError(.invalid, "Binding \"\(name)\" is invalid: target.name: Invalid value: \(FieldError.quoted(node)): \(NameFormat.dns1123SubdomainMessage)", name: name, kind: "bindings")
        }
        let old = pod
        pod.spec.nodeName = node
        var status = pod.status ?? PodStatus(phase: "Pending")
        var conditions = (status.conditions ?? []).filter { $0.type != "PodScheduled" }
        conditions.append(PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: clock.now().kubernetesTime))
        status.conditions = conditions
        pod.status = status
        return try await write(.bound, pod, old: old, oldRevision: revision, origin, dryRun: dryRun)
    }

    /// Deletes an object. Pods bound to a node get a graceful deletion (`DeletionStarted`, with the
    /// grace period of the request, else the pod's, else 30 s) that their kubelet completes; grace 0,
    /// pods on no node, and other kinds without finalizers go at once (`Deleted`). Objects with
    /// finalizers wait for them to be removed. A namespace becomes Terminating: the namespace
    /// controller deletes its contents and then the namespace (`default`, `kube-system` and
    /// `kube-public` may not be deleted).
    public func delete(
        _ kind: ResourceKind, namespace: String?, name: String, gracePeriodSeconds: Int64? = nil,
        preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, propagationPolicy: PropagationPolicy? = nil,
        by origin: Origin, dryRun: Bool = false
    ) async throws(StatusError) -> any Resource {
        try await appendRecordedInputs(unless: dryRun)
        let key = Self.key(kind, namespace, name)
        guard let (found, revision) = current(key), let object = found else { throw Self.notFound(kind, name) }
        if let uid = preconditionUID, uid != object.metadata.uid {
            throw StatusError(.conflict, "Operation cannot be fulfilled on \(kind.plural) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadata.uid ?? "")", name: name, kind: kind.plural)
        }
        if let rv = preconditionResourceVersion, rv != String(revision) {
            throw StatusError(.conflict, "Operation cannot be fulfilled on \(kind.plural) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again", name: name, kind: kind.plural)
        }
        if kind == .namespace {
            guard !Self.undeletableNamespaces.contains(name) else {
                throw StatusError(.forbidden, "namespaces \"\(name)\" is forbidden: this namespace may not be deleted", name: name, kind: "namespaces")
            }
            // Terminating first: the namespace controller deletes what it holds, then finalizes it.
            guard var ns = object as? Namespace else { throw Self.notFound(kind, name) }
            if ns.metadata.deletionTimestamp != nil { return try Self.withVersion(ns, revision) }
            let old = ns
            ns.metadata.deletionTimestamp = clock.now().kubernetesTime
            ns.metadata.deletionGracePeriodSeconds = 0
            ns.status = NamespaceStatus(phase: "Terminating")
            return try await write(.deletionStarted, ns, old: old, oldRevision: revision, origin, dryRun: dryRun)
        }
        if let finalizer = propagationPolicy?.finalizer, !(object is Pod) {
            return try await hold(object, for: finalizer, revision: revision, origin, dryRun: dryRun)
        }
        return try await deleteObject(object, revision: revision, gracePeriodSeconds: gracePeriodSeconds, origin, dryRun: dryRun)
    }

    /// Orphan and Foreground: the object stays, Terminating, until the garbage collector has
    /// released or deleted its dependents and removed `finalizer`.
    private func hold<R: Resource>(_ object: R, for finalizer: String, revision: UInt64, _ origin: Origin, dryRun: Bool) async throws(StatusError) -> R {
        var marked = object
        marked.metadata.finalizers = (marked.metadata.finalizers ?? []).filter { $0 != finalizer } + [finalizer]
        if marked.metadata.deletionTimestamp == nil {
            marked.metadata.deletionTimestamp = clock.now().kubernetesTime
            marked.metadata.deletionGracePeriodSeconds = 0
        }
        return try await write(object.metadata.deletionTimestamp == nil ? .deletionStarted : .updated, marked, old: object, oldRevision: revision, origin, dryRun: dryRun)
    }

    /// What happens to an object's dependents when it is deleted (`DeleteOptions.propagationPolicy`).
    public enum PropagationPolicy: String, Sendable {
        /// The object goes at once; the garbage collector deletes its dependents afterwards.
        case background = "Background"
        /// The garbage collector deletes the dependents first; the object goes when they have.
        case foreground = "Foreground"
        /// The dependents stay, their references to the object removed; then the object goes.
        case orphan = "Orphan"

        /// The finalizer that holds the object while the garbage collector works.
        public var finalizer: String? {
            switch self {
            case .background: nil
            case .foreground: "foregroundDeletion"
            case .orphan: "orphan"
            }
        }
    }

    private func deleteObject<R: Resource>(_ object: R, revision: UInt64, gracePeriodSeconds: Int64?, _ origin: Origin, dryRun: Bool) async throws(StatusError) -> R {
        var object = object
        let old = object
        let now = clock.now()
        if let pod = object as? Pod, let node = pod.spec.nodeName, !node.isEmpty {
            let grace = max(0, gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30)
            if grace > 0 {
                if let current = pod.metadata.deletionGracePeriodSeconds, current <= grace { return try Self.withVersion(object, revision) }
                object.metadata.deletionTimestamp = now.adding(seconds: grace).kubernetesTime
                object.metadata.deletionGracePeriodSeconds = grace
                return try await write(.deletionStarted, object, old: old, oldRevision: revision, origin, dryRun: dryRun)
            }
        } else if !(object.metadata.finalizers ?? []).isEmpty {
            if object.metadata.deletionTimestamp != nil { return try Self.withVersion(object, revision) }
            object.metadata.deletionTimestamp = now.kubernetesTime
            object.metadata.deletionGracePeriodSeconds = 0
            return try await write(.deletionStarted, object, old: old, oldRevision: revision, origin, dryRun: dryRun)
        }
        return try await commit(.deleted, object, origin, dryRun: dryRun, revisionOnResult: revision)
    }

    /// Namespaces Kubernetes never lets go.
    public static let undeletableNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

    /// Removes a terminating namespace once it holds nothing (the namespace controller's last step,
    /// kube-apiserver's `namespaces/finalize`). Conflict while anything is left in it.
    public func finalizeNamespace(_ name: String, by origin: Origin) async throws(StatusError) {
        try await appendRecordedInputs()
        let key = ObjectKey(kind: Namespace.kind, name: name)
        guard let (found, revision) = current(key), let ns = found as? Namespace else { throw Self.notFound(.namespace, name) }
        guard ns.metadata.deletionTimestamp != nil else {
            throw StatusError(.conflict, "Operation cannot be fulfilled on namespaces \"\(name)\": the namespace is not being deleted", name: name, kind: "namespaces")
        }
        let held = state.contents(of: name)
        guard held.isEmpty, !pending.contains(where: { $0.key.namespace == name && $0.value.object != nil }) else {
            throw StatusError(.conflict, "Operation cannot be fulfilled on namespaces \"\(name)\": it still holds \(held.count) object(s)", name: name, kind: "namespaces")
        }
        _ = try await commit(.deleted, ns, origin, dryRun: false, revisionOnResult: revision)
    }

    /// Appends an event that is not a write — a component's decision — in order with the writes.
    public func record(_ draft: EventDraft) async throws(StatusError) -> Event {
        try await appendRecordedInputs()
        return try await append(draft, pendingKey: nil, pendingObject: nil)
    }

    /// In a replay (`Options.replay`), appends the recorded inputs due at the next revision — a
    /// user's write, a fault, a restart — so that a component's write meets the state it met when
    /// it was recorded.
    public func appendRecordedInputs(unless dryRun: Bool = false) async throws(StatusError) {
        guard let gate = options.replay, !dryRun else { return }
        while let input = gate.input(at: nextRevision) { _ = try await append(input, pendingKey: nil, pendingObject: nil) }
    }

    // MARK: internals

    private static func key(_ kind: ResourceKind, _ namespace: String?, _ name: String) -> ObjectKey {
        ObjectKey(kind: kind.kind, namespace: kind.namespaced ? (namespace ?? "default") : "", name: name)
    }

    /// The StorageClass annotated as the default (the newest, should there be several).
    func defaultStorageClass() -> String? {
        state.list(.storageClass).compactMap { current($0.key)?.0 as? StorageClass }
            .filter { $0.metadata.annotations?[StorageClass.defaultClassAnnotation] == "true" }
            .max { ($0.metadata.creationTimestamp ?? "", $0.metadata.name ?? "") < ($1.metadata.creationTimestamp ?? "", $1.metadata.name ?? "") }?
            .metadata.name
    }

    private static func encode(_ o: some Encodable) throws(StatusError) -> JSONValue {
        do { return try ValueEncoder().encode(o) } catch { throw StatusError(.internalError, "\(error)") }
    }

    private static func notFound(_ kind: ResourceKind, _ name: String) -> StatusError {
        StatusError(.notFound, "\(kind.plural) \"\(name)\" not found", name: name, group: kind.group, kind: kind.plural)
    }

    /// The object a stored reference points at, read from the journal.
    private func decode(_ stored: StoredObject) throws(StatusError) -> any Resource {
        do { return try journal.read { try stored.decode(in: $0) } } catch {
            throw StatusError(.internalError, "stored \(stored.key) cannot be decoded: \(error)")
        }
    }

    private static func withVersion<R: Resource>(_ object: R, _ revision: UInt64) throws(StatusError) -> R {
        var o = object
        o.metadata.resourceVersion = String(revision)
        return o
    }

    /// The newest version of `key`: a write still committing, else the applied state.
    func current(_ key: ObjectKey) -> ((any Resource)?, UInt64)? {
        if let p = pending[key] { return p.object.map { ($0, p.revision) } }
        guard let stored = state.object(key) else { return nil }
        if let w = written[key], w.revision == stored.revision { return (w.object, w.revision) }
        guard let o = try? decode(stored) else { return nil }
        return (o, stored.revision)
    }

    /// Whether `key` exists, counting writes still being committed (without reading the object).
    private func exists(_ key: ObjectKey) -> Bool {
        if let p = pending[key] { return p.object != nil }
        return state.object(key) != nil
    }

    private func existing<R: Resource>(_ object: R) throws(StatusError) -> (R, UInt64) {
        let kind = ResourceKind(of: R.self)
        let key = ObjectKey(kind: R.kind, namespace: R.namespaced ? (object.metadata.namespace ?? "default") : "", name: object.metadata.name ?? "")
        guard let (found, revision) = current(key), let old = found as? R else { throw Self.notFound(kind, key.name) }
        return (old, revision)
    }

    private func precondition(_ new: some Resource, _ old: some Resource, _ revision: UInt64) throws(StatusError) {
        let kind = ResourceKind(of: type(of: new))
        let name = new.metadata.name ?? ""
        if let rv = new.metadata.resourceVersion, !rv.isEmpty, rv != String(revision) {
            throw StatusError(.conflict, "Operation cannot be fulfilled on \(kind.plural) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again", name: name, group: kind.group, kind: kind.plural)
        }
        if let uid = new.metadata.uid, !uid.isEmpty, uid != old.metadata.uid {
            throw StatusError(.conflict, "Operation cannot be fulfilled on \(kind.plural) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.metadata.uid ?? "")", name: name, kind: kind.plural)
        }
    }

    private static func check(_ errors: [FieldError], _ object: some Resource) throws(StatusError) {
        guard !errors.isEmpty else { return }
        let kind = type(of: object).kind
        let name = object.metadata.name ?? object.metadata.generateName ?? ""
        throw StatusError(
            .invalid, InvalidObject(kind: kind, name: name, errors: errors).description, name: name,
            group: ResourceKind(rawValue: kind)?.group, kind: kind,
            causes: errors.map { e in
                let reason = switch e.kind {
                case .required: "FieldValueRequired"
                case .duplicate: "FieldValueDuplicate"
                case .notSupported: "FieldValueNotSupported"
                case .forbidden: "FieldValueForbidden"
                case .tooLong: "FieldValueTooLong"
                case .tooMany: "FieldValueTooMany"
                case .invalid: "FieldValueInvalid"
                }
                return StatusError.Cause(reason: reason, message: String(e.description.dropFirst(e.field.count + 2)), field: e.field)
            })
    }

    /// Server-set metadata the client cannot change on update.
    private static func carryOver<R: Resource>(server old: R, into new: R) -> R {
        var o = new
        o.metadata.uid = old.metadata.uid
        o.metadata.creationTimestamp = old.metadata.creationTimestamp
        o.metadata.deletionTimestamp = old.metadata.deletionTimestamp
        o.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
        o.metadata.generation = old.metadata.generation
        o.metadata.namespace = old.metadata.namespace
        o.metadata.generateName = old.metadata.generateName
        // Priority admission on update: what it set at create is kept when the update leaves it out.
        if var pod = o as? Pod, let before = old as? Pod {
            if pod.spec.priority == nil { pod.spec.priority = before.spec.priority }
            if pod.spec.preemptionPolicy == nil { pod.spec.preemptionPolicy = before.spec.preemptionPolicy }
            o = pod as! R
        }
        // Allocated addresses stay when an update leaves them out (kube-apiserver's patchAllocatedValues).
        if var service = o as? Service, let before = old as? Service, var spec = service.spec, let was = before.spec {
            if (spec.clusterIP ?? "").isEmpty, (spec.type ?? "ClusterIP") != "ExternalName" {
                (spec.clusterIP, spec.clusterIPs) = (was.clusterIP, was.clusterIPs)
                (spec.ipFamilies, spec.ipFamilyPolicy) = (spec.ipFamilies ?? was.ipFamilies, spec.ipFamilyPolicy ?? was.ipFamilyPolicy)
            }
            spec.ports = spec.ports?.map { p in
                var p = p
                if p.nodePort == nil { p.nodePort = was.ports?.first { $0.port == p.port && $0.protocol == p.protocol }?.nodePort }
                return p
            }
            service.spec = spec
            o = service as! R
        }
        return o
    }

    /// An update-like write: nothing is appended when the object is unchanged; a terminating object
    /// whose last finalizer goes away is deleted instead.
    private func write<R: Resource>(
        _ type: WriteType, _ object: R, old: R, oldRevision: UInt64, _ origin: Origin, dryRun: Bool, fields: FieldTracking = .untracked
    ) async throws(StatusError) -> R {
        var o = object
        o.metadata.resourceVersion = nil
        var previous = old
        previous.metadata.resourceVersion = nil
        var json: JSONValue?
        if case .update(let subresource) = fields {
            // The entries a client sends replace the live ones (kubectl's migration from client-side
            // apply does this); a status write's are ignored.
            o.metadata.managedFields = Self.baseEntries(requested: subresource == nil ? o.metadata.managedFields : nil, live: old.metadata.managedFields)
            if o == previous { return try Self.withVersion(old, oldRevision) }
            var encoded = try Self.encode(o)
            let entries = FieldManager.update(
                ResourceKind(of: R.self), old: try Self.encode(previous), new: encoded, entries: o.metadata.managedFields ?? [],
                manager: origin.manager, subresource: subresource, time: FieldManager.writeTime)
            o.metadata.managedFields = entries.isEmpty ? nil : entries
            encoded["metadata"]?["managedFields"] = entries.isEmpty ? nil : try Self.encode(entries)
            json = encoded
        }
        if o == previous { return try Self.withVersion(old, oldRevision) }
        // A namespace goes only when the namespace controller finalizes it (`finalizeNamespace`).
        if o.metadata.deletionTimestamp != nil, (o.metadata.finalizers ?? []).isEmpty, !(o is Pod), !(o is Namespace) {
            return try await commit(.deleted, o, origin, dryRun: dryRun)
        }
        return try await commit(type, o, json: json, origin, dryRun: dryRun)
    }

    /// The entries an Update starts from: those the request carries, when it carries any (a single
    /// empty entry clears them, as in Kubernetes), else the live object's.
    private static func baseEntries(requested: [ManagedFieldsEntry]?, live: [ManagedFieldsEntry]?) -> [ManagedFieldsEntry]? {
        guard let requested, !requested.isEmpty else { return live }
        if requested.count == 1, requested[0].manager == nil, requested[0].operation == nil, requested[0].fieldsV1 == nil { return nil }
        return requested
    }

    /// Appends the write event and waits until the state includes it. `json`, when given, is the
    /// object already encoded (without `resourceVersion`).
    private func commit<R: Resource>(_ type: WriteType, _ object: R, json: JSONValue? = nil, _ origin: Origin, dryRun: Bool, revisionOnResult: UInt64? = nil) async throws(StatusError) -> R {
        // One clock reading for the whole write: its event's time, and the time of the field
        // ownership it changed (a replay reads the event's time back, and must make the same entries).
        let now = clock.now()
        var object = object
        var json = json
        if let entries = object.metadata.managedFields, entries.contains(where: { $0.time == FieldManager.writeTime }) {
            let stamped = FieldManager.stamping(entries, time: now.kubernetesTime)
            object.metadata.managedFields = stamped
            if json != nil { json?["metadata"]?["managedFields"] = try Self.encode(stamped) }
        }
        var stored = object
        stored.metadata.resourceVersion = nil
        let data: [UInt8]
        do { data = try (json ?? ValueEncoder().encode(stored)).serialized() } catch { throw StatusError(.internalError, "\(error)") }
        let key = object.objectKey
        if dryRun { return try Self.withVersion(object, revisionOnResult ?? nextRevision) }
        let draft = EventDraft(
            time: now, type: type.rawValue, actor: origin.actor,
            object: ObjectRef(kind: R.kind, namespace: key.namespace, name: key.name, uid: object.metadata.uid ?? ""),
            cause: origin.cause, request: origin.request, data: data)
        let event = try await append(draft, pendingKey: key, pendingObject: type == .deleted ? nil : object)
        if type == .deleted {
            written[key] = nil
        } else {
            if written.count >= 200_000 { written.removeAll(keepingCapacity: true) }
            let typed = try Self.withVersion(object, event.revision)
            written[key] = (event.revision, typed)
            recent.put(event.revision, typed)
        }
        return try Self.withVersion(object, type == .deleted ? (revisionOnResult ?? event.revision) : event.revision)
    }

    private func append(_ draft: EventDraft, pendingKey: ObjectKey?, pendingObject: (any Resource)?) async throws(StatusError) -> Event {
        if let failure { throw StatusError(.serviceUnavailable, "the journal failed earlier (\(failure)); restart to recover") }
        do { try Journal.check(draft) } catch { throw StatusError(.internalError, "\(error)") }
        if let o = outOfSpace {
            // Like etcd's NOSPACE alarm: writes are refused, reads go on. Once the appends that were
            // under way have come back, one write at a time may try again (at most once a second).
            guard inFlight == 0, ContinuousClock.now - o.lastTry >= options.spaceRetryInterval else { throw Self.noSpace(o.message) }
            outOfSpace?.lastTry = .now
        }
        let revision = nextRevision
        try options.replay?.check(draft, at: revision)
        nextRevision += 1
        if let pendingKey { pending[pendingKey] = (pendingObject, revision) }
        let events: [Event]
        inFlight += 1
        do {
            events = options.synchronousAppends ? try journal.appendSynchronously([draft]) : try await journal.append([draft])
            inFlight -= 1
        } catch let e as JournalError where Self.isOutOfSpace(e) {
            inFlight -= 1
            if outOfSpace == nil { spaceAlarm.raise(e.message) }
            outOfSpace = (e.message, .now)
            revisionsUncertain = true
            settleAfterRefusals()
            throw Self.noSpace(e.message)
        } catch {
            inFlight -= 1
            failure = "\(error)"
            throw StatusError(.internalError, "the write was not stored: \(error)")
        }
        guard let event = events.first else {
            failure = "the journal appended nothing"
            throw StatusError(.internalError, "the journal appended nothing; restart to recover")
        }
        if outOfSpace != nil {
            outOfSpace = nil  // space came back
            spaceAlarm.clear()
        }
        // After a refusal the journal's revision is the truth (a refused write left a predicted one unused).
        if event.revision != revision, !revisionsUncertain {
            failure = "revision \(event.revision) appended where \(revision) was expected"
            throw StatusError(.internalError, "the journal assigned an unexpected revision; restart to recover")
        }
        completed[event.revision] = event
        options.replay?.appended(event)
        await applyCompleted(until: event.revision)
        settleAfterRefusals()
        return event
    }

    /// After refused appends, once none is under way, the next revision is the journal's head + 1
    /// again and the refused writes' pending objects are forgotten.
    private func settleAfterRefusals() {
        guard revisionsUncertain, inFlight == 0 else { return }
        nextRevision = state.revision + 1
        pending = pending.filter { $0.value.revision < nextRevision }
        revisionsUncertain = false
    }

    /// A full disk, or the map at its configured maximum (like etcd's `--quota-backend-bytes`).
    static func isOutOfSpace(_ e: JournalError) -> Bool { e.code == .noSpace || e.code == .journalFull }

    static func noSpace(_ detail: String) -> StatusError {
        StatusError(.insufficientStorage, "the journal has no space left: writes are refused until space is freed, reads go on (\(detail))")
    }

    /// Encodes and stores a snapshot of the current state on another thread, after the previous
    /// one, so writes do not wait for it. A snapshot is a cache: failing to store one loses nothing.
    private func startSnapshot() {
        let state = state, journal = journal, previous = snapshotWrite
        snapshotWrite = Task.detached(priority: .utility) {
            await previous?.value
            try? await journal.putSnapshot(SnapshotCodec.encode(state), at: state.revision)
        }
    }

    /// Returns once every snapshot started so far is stored (or has failed).
    public func flushSnapshots() async {
        await snapshotWrite?.value
    }

    /// Applies completed events in revision order; returns once `revision` is applied.
    private func applyCompleted(until revision: UInt64) async {
        while let event = completed.removeValue(forKey: state.revision + 1) {
            state.apply(event)
            let key = event.object.key
            if let p = pending[key], p.revision <= event.revision { pending[key] = nil }
            for rev in appliedWaiters.keys.sorted() where rev <= event.revision {
                appliedWaiters.removeValue(forKey: rev)?.forEach { $0.resume() }
            }
            watchCache.applied(event)
            signal.advance(to: event.revision)
            if options.snapshotInterval > 0, event.revision % options.snapshotInterval == 0 { startSnapshot() }
        }
        if state.revision < revision {
            await withCheckedContinuation { appliedWaiters[revision, default: []].append($0) }
        }
    }
}

/// Whether the Store refuses writes for lack of space, and why (etcd's NOSPACE alarm).
public final class SpaceAlarm: Sendable {
    private let state = Mutex<(reason: String?, observers: [@Sendable (String?) -> Void])>((nil, []))

    /// The journal's reason while raised, else nil.
    public var reason: String? { state.withLock { $0.reason } }
    public var isRaised: Bool { reason != nil }

    /// Calls `observer` with the reason when the alarm is raised and with nil when it clears (on
    /// the writing task: keep it short).
    public func onChange(_ observer: @escaping @Sendable (String?) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    func raise(_ reason: String) { set(reason) }
    func clear() { set(nil) }

    private func set(_ reason: String?) {
        let observers = state.withLock { s -> [@Sendable (String?) -> Void] in
            guard (s.reason == nil) != (reason == nil) else { return [] }
            s.reason = reason
            return s.observers
        }
        for o in observers { o(reason) }
    }
}

/// The cluster's seed (ids, generated names, the scheduler's tie-breaks): the one `ClusterInitialized`
/// recorded at revision 1, or for a journal that did not start as a cluster (an imported sample) one
/// derived from its cluster id. The live control plane and every re-run of its decisions read it here.
public enum ClusterSeed {
    public static func read(in view: JournalView) throws -> UInt64 {
        if let first = try view.event(at: 1), let initialized = ClusterInitialized.from(first) { return initialized.seed }
        return SHA256.hash(data: Data(try view.clusterID().utf8)).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}

/// Deterministic identifiers: each is a function of the cluster's seed and the revision of the
/// event that creates it, so a replay with the same seed writes the same ids.
public enum Identifiers {
    static func bytes(_ seed: UInt64, _ revision: UInt64, _ purpose: StaticString) -> SHA256.Digest {
        var input: (UInt64, UInt64, UInt64) = (seed.bigEndian, revision.bigEndian, 0)
        return withUnsafeMutableBytes(of: &input) { buf in
            let n = min(8, purpose.utf8CodeUnitCount)
            buf.baseAddress!.advanced(by: 16).copyMemory(from: purpose.utf8Start, byteCount: n)
            return SHA256.hash(data: UnsafeRawBufferPointer(rebasing: buf[..<(16 + n)]))
        }
    }

    /// A version-4-shaped UUID.
    public static func uid(seed: UInt64, revision: UInt64) -> String {
        var b = Array(bytes(seed, revision, "uid").prefix(16))
        b[6] = (b[6] & 0x0f) | 0x40
        b[8] = (b[8] & 0x3f) | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, byte) in b.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Five characters from Kubernetes' generateName alphabet (no vowels, no confusable digits).
    public static func nameSuffix(seed: UInt64, revision: UInt64, attempt: Int = 0) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let digest = Array(bytes(seed, revision, "name"))
        return String(digest[(attempt * 4)..<(attempt * 4 + 5)].map { alphabet[Int($0) % alphabet.count] })
    }
}

/// `continue` tokens: the list's revision and the last key returned.
enum ContinueToken {
    static func encode(revision: UInt64, after key: ObjectKey) -> String {
        let text = "\(revision)\u{0}\(key.kind)\u{0}\(key.namespace)\u{0}\(key.name)"
        return Data(text.utf8).base64EncodedString()
    }

    static func decode(_ token: String) -> (UInt64, ObjectKey)? {
        guard let data = Data(base64Encoded: token) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let rev = UInt64(parts[0]) else { return nil }
        return (rev, ObjectKey(kind: parts[1], namespace: parts[2], name: parts[3]))
    }
}

/// A bounded hand-off of typed objects by revision, from the Store to readers in the same process.
public final class RecentObjects: Sendable {
    private let objects = Mutex<[UInt64: any Resource]>([:])
    static let limit = 100_000

    func put(_ revision: UInt64, _ object: any Resource) {
        objects.withLock { o in
            if o.count >= Self.limit { o.removeAll(keepingCapacity: true) }
            o[revision] = object
        }
    }

    /// The object written at `revision`, if still held; taking it removes it.
    public func take(_ revision: UInt64) -> (any Resource)? {
        objects.withLock { $0.removeValue(forKey: revision) }
    }
}
