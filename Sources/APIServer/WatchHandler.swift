import ClusterModel
import ControlPlane
import Foundation
import Synchronization

extension KubeAPI {
    /// Events a watcher may fall behind by before its watch is closed (Kubernetes closes slow
    /// watchers too; clients watch again from the last revision they saw).
    static let watchBuffer = 4096

    /// `?watch=1`: from `resourceVersion` (any past revision: nothing is compacted), or with none
    /// (or `0`) the current objects as ADDED first; JSON lines until `timeoutSeconds` or the client
    /// goes away.
    func watch(_ r: APIRequest, _ t: Target) async throws(StatusError) -> APIResponse {
        var filter = WatchFilter(kind: t.kind, namespace: t.namespace)
        do {
            filter.labels = try r.query["labelSelector"].flatMap { $0.isEmpty ? nil : try LabelSelectorExpression(parsing: $0) }
            filter.fields = try r.query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelectorExpression(parsing: $0, kind: t.kind) }
        } catch {
            throw StatusError(.badRequest, "\(error)")
        }
        var initial: [WatchEvent] = []
        let start: UInt64
        if let rv = r.query["resourceVersion"].flatMap({ UInt64($0) }), rv > 0 {
            start = rv
        } else {
            let listed = try await store.list(t.kind, namespace: t.namespace, labelSelector: r.query["labelSelector"], fieldSelector: r.query["fieldSelector"])
            for o in listed.items {
                initial.append(WatchEvent(type: .added, revision: UInt64(o.metadata.resourceVersion ?? "") ?? 0, object: try Self.json(o)))
            }
            start = listed.revision
        }
        let timeout = r.query["timeoutSeconds"].flatMap { Int64($0) } ?? 1800
        let encode = WatchLineEncoder(kind: t.kind, table: r.wantsTable, includeObject: r.query["includeObject"])
        let events = store.watch(filter, from: start)
        let bookmarks = r.flag("allowWatchBookmarks")
        let metrics = self.metrics, existing = initial, interval = bookmarkInterval
        return .stream(Self.lines(timeout: timeout) { emit in
            metrics.watchers.increment()
            defer { metrics.watchers.decrement() }
            let reached = Reached(start)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for e in existing { guard emit(encode.line(e)) else { return } }
                    for try await e in events {
                        guard emit(encode.line(e)) else { return }
                        reached.value.store(e.revision, ordering: .relaxed)
                    }
                }
                if bookmarks {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            guard emit(encode.bookmark(reached.value.load(ordering: .relaxed))) else { return }
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        })
    }

    /// A stream of byte chunks fed by `produce` (which returns when done; `emit` says false once
    /// the consumer is gone or too far behind), ended after `timeout` seconds at the latest.
    static func lines(timeout: Int64, _ produce: @escaping @Sendable (_ emit: @escaping @Sendable ([UInt8]) -> Bool) async throws -> Void) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(watchBuffer))
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await produce { chunk in
                        if case .enqueued = continuation.yield(chunk) { return true }
                        return false
                    }
                }
                group.addTask { try? await Task.sleep(for: .seconds(timeout)) }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

/// Turns watch events into the JSON lines of a watch response, as objects or as Table rows.
struct WatchLineEncoder: Sendable {
    var kind: ResourceKind
    var table: Bool
    var includeObject: String?

    func line(_ e: WatchEvent) -> [UInt8] {
        var object = e.object
        if table, let typed = try? kind.decode(e.object, strict: false) {
            object = Tables.table(kind, [(typed, e.object)], revision: e.revision, includeObject: includeObject, now: Date())
        }
        let doc: JSONValue = ["type": .string(e.type.rawValue), "object": object]
        return doc.serialized() + [UInt8(ascii: "\n")]
    }

    func bookmark(_ revision: UInt64) -> [UInt8] {
        let doc: JSONValue = ["type": "BOOKMARK", "object": [
            "kind": .string(table ? "Table" : kind.kind), "apiVersion": .string(table ? "meta.k8s.io/v1" : kind.apiVersion),
            "metadata": ["resourceVersion": .string(String(revision))],
        ]]
        return doc.serialized() + [UInt8(ascii: "\n")]
    }
}

/// The newest revision a watch has delivered (what its bookmarks report).
final class Reached: Sendable {
    let value: Atomic<UInt64>
    init(_ start: UInt64) { value = Atomic(start) }
}
