import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries

/// The journal's answers for remote use, under `/kj/v1/` (apart from the Kubernetes API, and
/// read-only: nothing here or anywhere changes or deletes an event). Each returns the same JSON
/// as the matching `kj` command's `-o json`:
///
/// | path | query | like |
/// |---|---|---|
/// | `/kj/v1/why/NAMESPACE/NAME` | `at`, `full`, `not` | `kj why pod/NAME` |
/// | `/kj/v1/why/KIND/NAMESPACE/NAME` (`_` for cluster-scoped) | `at` | `kj why KIND/NAME` |
/// | `/kj/v1/history/KIND/NAMESPACE/NAME` (`_` for cluster-scoped) | `at`, `uid` | `kj history` |
/// | `/kj/v1/events` | `kind`, `name`, `namespace`, `actor`, `type`, `from`, `to`, `since`, `until`, `limit`, `follow` | `kj events` |
/// | `/kj/v1/state/KIND` | `at`, `namespace`, `labelSelector`, `fieldSelector` | `kj get KIND --at` |
/// | `/kj/v1/diff` | `from`, `to`, `kind`, `namespace` | `kj diff` |
struct JournalEndpoints: Sendable {
    static let prefix = "kj"
    let store: Store
    /// Where an open `follow` stream is counted (`kubejournal_watchers`).
    var metrics: ServerMetrics?

    func handle(_ r: APIRequest, segments: [String]) async throws(StatusError) -> APIResponse {
        guard r.method == "GET" else { throw StatusError(.methodNotAllowed, "the journal endpoints only read") }
        guard segments.first == "v1", segments.count >= 2 else { throw StatusError(.notFound, "the server could not find the requested resource") }
        let journal = store.journal
        do {
            switch segments[1] {
            case "why" where segments.count == 4:
                return .json(200, try encode(try journal.read { view in
                    try PodExplanation.explain(namespace: segments[2], name: segments[3], at: try point(r.query["at"], in: view), full: r.flag("full"),
                                               notNode: r.query["not"], in: view)
                }))
            case "why" where segments.count == 5:
                let kind = try Self.kind(segments[2])
                let key = ObjectKey(kind: kind.rawValue, namespace: kind.namespaced ? segments[3] : "", name: segments[4])
                return .json(200, try encode(try journal.read { view in
                    try ObjectExplanation.explain(key, at: try point(r.query["at"], in: view), in: view)
                }))
            case "history" where segments.count == 5:
                let kind = try Self.kind(segments[2])
                let key = ObjectKey(kind: kind.rawValue, namespace: kind.namespaced ? segments[3] : "", name: segments[4])
                return .json(200, try encode(try journal.read { view in
                    try ObjectHistory.load(key, uid: r.query["uid"], until: try point(r.query["at"], in: view), in: view)
                }))
            case "events" where segments.count == 2:
                return try events(r)
            case "state" where segments.count == 3:
                return .json(200, try state(r, kind: try Self.kind(segments[2])))
            case "diff" where segments.count == 2:
                let kind = try r.query["kind"].map(Self.kind)
                return .json(200, try encode(try journal.read { view in
                    let from = try point(r.query["from"], in: view) ?? 0
                    let to = try point(r.query["to"], in: view) ?? view.head().revision
                    guard from <= to else { throw QueryError.invalid("the first point (revision \(from)) is after the second (revision \(to))") }
                    return try StateDiff.between(from, to, kind: kind, namespace: r.query["namespace"], in: view)
                }))
            default: break
            }
        } catch let e as StatusError {
            throw e
        } catch let e as QueryError {
            if case .notFound = e { throw StatusError(.notFound, e.description) }
            throw StatusError(.badRequest, e.description)
        } catch {
            throw StatusError(.internalError, "\(error)")
        }
        throw StatusError(.notFound, "the server could not find the requested resource")
    }

    static func kind(_ name: String) throws(StatusError) -> ResourceKind {
        guard let k = ResourceKind(resource: name) else { throw StatusError(.badRequest, "unknown kind \"\(name)\"") }
        return k
    }

    private func point(_ text: String?, in view: JournalView) throws -> UInt64? {
        guard let text, !text.isEmpty else { return nil }
        guard let p = PointInTime(text) else { throw StatusError(.badRequest, "\"\(text)\" is not a revision, an RFC 3339 time or a duration like -5m") }
        return try p.revision(in: view)
    }

    private func encode(_ value: some Encodable) throws -> JSONValue { try ValueEncoder().encode(value) }

    /// The objects of a kind at a point, as `kj get KIND --at` prints them with `-o json`.
    private func state(_ r: APIRequest, kind: ResourceKind) throws -> JSONValue {
        let labels = try r.query["labelSelector"].flatMap { $0.isEmpty ? nil : try LabelSelectorExpression(parsing: $0) }
        let fields = try r.query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelectorExpression(parsing: $0, kind: kind) }
        return try store.journal.read { view in
            let revision = try point(r.query["at"], in: view) ?? view.head().revision
            let state = try Projection.state(in: view, at: revision)
            let items: [JSONValue] = try state.list(kind, namespace: r.query["namespace"]).compactMap { stored in
                let o = try stored.decode(in: view)
                guard labels?.matches(o.metadata.labels ?? [:]) ?? true, fields?.matches(o.fieldValue) ?? true else { return nil }
                return try ValueEncoder().encode(o)
            }
            return ["apiVersion": "v1", "kind": "List", "items": .array(items), "metadata": ["resourceVersion": .string(String(revision))]]
        }
    }

    /// `kj events`: an array, or with `follow` a stream of JSON lines that goes on as events are appended.
    private func events(_ r: APIRequest) throws -> APIResponse {
        var filter = EventFilter()
        if let k = r.query["kind"] { filter.kind = try Self.kind(k).rawValue }
        filter.name = r.query["name"]
        filter.namespace = r.query["namespace"]
        filter.actor = r.query["actor"]
        filter.types = r.query["type"]?.split(separator: ",").map(String.init) ?? []
        filter.fromRevision = r.query["from"].flatMap { UInt64($0) }
        filter.toRevision = r.query["to"].flatMap { UInt64($0) }
        let journal = store.journal
        var records: [EventRecord] = []
        var last: UInt64 = 0
        try journal.read { view in
            if let since = r.query["since"] { filter.since = try Self.time(since, in: view) }
            if let until = r.query["until"] { filter.until = try Self.time(until, in: view) }
            last = try view.head().revision
            try filter.forEach(in: view) { h in
                if let e = try view.event(at: h.revision) { records.append(EventRecord(e)) }
                return true
            }
        }
        if let limit = try r.int64("limit") {
            guard limit >= 0 else { throw StatusError(.badRequest, "limit must be 0 or more, not \(limit)") }
            records = Array(records.suffix(Int(limit)))
        }
        guard r.flag("follow") else { return .json(200, try encode(records)) }
        let start = last, signal = store.signal, follow = filter
        let initial = records
        let timeout = try r.int64("timeoutSeconds") ?? 3600
        let metrics = self.metrics
        return .stream(KubeAPI.lines(timeout: .seconds(max(0, timeout))) { emit in
            metrics?.watchers.increment()
            defer { metrics?.watchers.decrement() }
            func line(_ record: EventRecord) throws -> [UInt8] { try ValueEncoder().encode(record).serialized() + [UInt8(ascii: "\n")] }
            for record in initial { guard await emit(try line(record)) else { return } }
            var seen = start
            while !Task.isCancelled {
                await signal.wait(after: seen)
                let found = try journal.read { view -> [EventRecord] in
                    var found: [EventRecord] = []
                    try follow.forEach(in: view, after: seen) { h in
                        if let e = try view.event(at: h.revision) { found.append(EventRecord(e)) }
                        return true
                    }
                    seen = try max(seen, view.head().revision)
                    return found
                }
                guard !found.isEmpty else { continue }
                var bytes: [UInt8] = []
                for record in found { bytes += try line(record) }
                guard await emit(bytes) else { return }
            }
        })
    }

    static func time(_ text: String, in view: JournalView) throws -> Timestamp {
        if let t = Timestamp(rfc3339: text) { return t }
        guard let d = PointInTime.duration(text.hasPrefix("-") ? String(text.dropFirst()) : text) else {
            throw StatusError(.badRequest, "\"\(text)\" is not an RFC 3339 time or a duration like 5m")
        }
        return try view.head().time.adding(microseconds: -d)
    }
}
