import ClusterModel
import ControlPlane
import Foundation
import ServiceLifecycle
import Synchronization

extension KubeAPI {
    /// Events a watcher may fall behind by before its watch is closed (Kubernetes closes slow
    /// watchers too; clients watch again from the last revision they saw).
    static let watchBuffer = 4096
    /// Lines sent in one piece at most, when a watcher is behind (one write instead of many).
    static let linesPerChunk = 16

    /// `?watch=1`: from `resourceVersion` (any past revision unless `watchWindow` limits how far
    /// back), or with none (or `0`) the current objects as ADDED first; JSON lines until
    /// `timeoutSeconds` (else `minRequestTimeout` to twice that) or the client goes away.
    func watch(_ r: APIRequest, _ t: Target, _ options: ListOptions) async throws(StatusError) -> APIResponse {
        var filter = WatchFilter(kind: t.kind, namespace: t.namespace)
        do {
            filter.labels = try r.query["labelSelector"].flatMap { $0.isEmpty ? nil : try LabelSelectorExpression(parsing: $0) }
            filter.fields = try r.query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelectorExpression(parsing: $0, kind: t.kind) }
        } catch {
            throw StatusError(.badRequest, "\(error)")
        }
        var initial: [WatchEvent] = []
        let start: UInt64
        let rv = try options.revision(of: t.kind)
        if rv > 0 {
            let head = store.signal.head
            if watchWindow > 0, head > watchWindow, rv < head - watchWindow {
                // As kube-apiserver's watch cache: past authorization and a valid resourceVersion,
                // the failure is the watch's one event, not the HTTP status.
                let expired = StatusError(.gone, "too old resource version: \(rv) (\(head - watchWindow))")
                let line = WatchLineEncoder.error(expired)
                return .stream(Self.lines(timeout: .seconds(1)) { emit in _ = emit(line, 1) })
            }
            start = rv
        } else {
            let listed = try await store.list(t.kind, namespace: t.namespace, labelSelector: r.query["labelSelector"], fieldSelector: r.query["fieldSelector"])
            for o in listed.items {
                initial.append(WatchEvent(type: .added, revision: UInt64(o.metadata.resourceVersion ?? "") ?? 0, object: try Self.json(o)))
            }
            start = listed.revision
        }
        let timeout = options.watchTimeout(minimum: minRequestTimeout)
        let encode = WatchLineEncoder(kind: t.kind, table: r.wantsTable, includeObject: r.query["includeObject"], shared: watchLines)
        let events = store.watch(filter, from: start)
        let bookmarks = r.flag("allowWatchBookmarks")
        let metrics = self.metrics, existing = initial, interval = bookmarkInterval
        return .stream(Self.lines(timeout: timeout) { emit in
            metrics.watchers.increment()
            defer { metrics.watchers.decrement() }
            let reached = Reached(start)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    func send(_ batch: some Collection<WatchEvent>) -> Bool {
                        if batch.count == 1, let only = batch.first { return emit(encode.line(only), 1) }
                        var bytes: [UInt8] = []
                        for e in batch { bytes += encode.line(e) }
                        return emit(bytes, batch.count)
                    }
                    var i = 0
                    while i < existing.count {
                        guard send(existing[i..<min(i + Self.linesPerChunk, existing.count)]) else { return }
                        i += Self.linesPerChunk
                    }
                    var iterator = events.makeAsyncIterator()
                    while true {
                        let batch = try await iterator.next(upTo: Self.linesPerChunk)
                        guard let last = batch.last, send(batch) else { return }
                        reached.value.store(last.revision, ordering: .relaxed)
                    }
                }
                if bookmarks {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            guard emit(encode.bookmark(reached.value.load(ordering: .relaxed)), 1) else { return }
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        })
    }

    /// A stream of byte chunks fed by `produce` (which returns when done; `emit(chunk, lines)`
    /// says false once the consumer is gone or more than `watchBuffer` lines behind), ended after
    /// `timeout` at the latest.
    static func lines(timeout: Duration, _ produce: @escaping @Sendable (_ emit: @escaping @Sendable (_ chunk: [UInt8], _ lines: Int) -> Bool) async throws -> Void) -> ChunkStream {
        ChunkStream(timeout: timeout, produce: produce)
    }
}

/// A streamed answer (a watch, `events?follow=1`): its producer runs as a child task of the task
/// that writes the response — nothing outlives the request — with up to `KubeAPI.watchBuffer`
/// lines buffered between them, so a consumer that falls further behind is let go (as
/// kube-apiserver lets a slow watcher go; it watches again from the last revision it saw).
public struct ChunkStream: Sendable {
    let timeout: Duration
    let produce: @Sendable (_ emit: @escaping @Sendable (_ chunk: [UInt8], _ lines: Int) -> Bool) async throws -> Void

    /// Runs the producer and hands each chunk to `write` until the producer is done, the timeout
    /// passes, the consumer falls behind, `write` throws (the client went away), the task is
    /// cancelled, or the server shuts down gracefully.
    public func run(_ write: ([UInt8]) async throws -> Void) async throws {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(KubeAPI.watchBuffer))
        // The lines of each chunk still buffered, oldest first: a chunk the consumer took is no
        // longer counted in the stream's remaining capacity.
        let backlog = Backlog()
        let (produce, timeout) = (self.produce, self.timeout)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask {
                        try? await produce { chunk, lines in
                            backlog.state.withLock { b in
                                guard case .enqueued(let remaining) = continuation.yield(chunk) else { return false }
                                return b.enqueued(lines, buffered: KubeAPI.watchBuffer - remaining) <= KubeAPI.watchBuffer
                            }
                        }
                    }
                    inner.addTask { try? await sleep(for: timeout) }
                    await inner.next()
                    inner.cancelAll()
                }
                continuation.finish()
            }
            try await withGracefulShutdownHandler {
                for await chunk in stream { try await write(chunk) }
            } onGracefulShutdown: {
                continuation.finish()
            }
            group.cancelAll()
        }
    }
}

/// Sleeps for `duration`, however long: in steps of a day at most, so that no deadline the clock
/// computes can overflow (a watch may ask for `timeoutSeconds=9223372036854775807`).
func sleep(for duration: Duration) async throws {
    var left = duration
    while left > .zero {
        let step = min(left, .seconds(86_400))
        try await Task.sleep(for: step)
        left -= step
    }
}

/// The lines of the chunks a stream still buffers, oldest first.
final class Backlog: Sendable {
    let state = Mutex(Lines())

    struct Lines {
        private var chunks: [Int] = []
        private var first = 0
        private var lines = 0

        /// Counts a chunk of `n` lines just enqueued, when the stream buffers `buffered` chunks
        /// (the consumer took the others); returns the lines buffered.
        mutating func enqueued(_ n: Int, buffered: Int) -> Int {
            chunks.append(n)
            lines += n
            while chunks.count - first > buffered {
                lines -= chunks[first]
                first += 1
            }
            if first > 1024 {
                chunks.removeFirst(first)
                first = 0
            }
            return lines
        }
    }
}

/// Turns watch events into the JSON lines of a watch response, as objects or as Table rows.
struct WatchLineEncoder: Sendable {
    var kind: ResourceKind
    var table: Bool
    var includeObject: String?
    /// Lines of plain (not Table) watches, shared by all watchers: the same event and type
    /// always make the same line.
    var shared: RevisionCache<[UInt8]>

    func line(_ e: WatchEvent) -> [UInt8] {
        if table, let typed = try? kind.decode(e.object, strict: false) {
            let object = Tables.table(kind, [(typed, e.object)], revision: e.revision, includeObject: includeObject, now: Date())
            return Self.line(e.type, object)
        }
        let variant: UInt64 = switch e.type {
        case .added: 0
        case .modified: 1
        case .deleted: 2
        }
        return shared.value(for: e.revision << 2 | variant) { Self.line(e.type, e.object) }
    }

    private static func line(_ type: WatchEvent.Kind, _ object: JSONValue) -> [UInt8] {
        let doc: JSONValue = ["type": .string(type.rawValue), "object": object]
        return doc.serialized() + [UInt8(ascii: "\n")]
    }

    /// An `ERROR` event: the failure that ends a watch, as its last line.
    static func error(_ failure: StatusError) -> [UInt8] {
        let doc: JSONValue = ["type": "ERROR", "object": KubeStatus.failure(failure)]
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
