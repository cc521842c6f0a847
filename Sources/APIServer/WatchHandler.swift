import ClusterModel
import ControlPlane
import Foundation
import ServiceLifecycle
import Synchronization

extension KubeAPI {
    /// Watch events encoded into one chunk at most (a watcher that is behind takes what is there).
    static let eventsPerChunk = 1000

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
                return .stream(Self.lines(timeout: .seconds(1)) { emit in _ = await emit(line) })
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
                    func send(_ batch: some Collection<WatchEvent>) async -> Bool {
                        var bytes: [UInt8] = []
                        for e in batch { bytes += encode.line(e) }
                        return await emit(bytes)
                    }
                    var i = 0
                    while i < existing.count {
                        guard await send(existing[i..<min(i + Self.eventsPerChunk, existing.count)]) else { return }
                        i += Self.eventsPerChunk
                    }
                    var iterator = events.makeAsyncIterator()
                    while true {
                        let batch = try await iterator.next(upTo: Self.eventsPerChunk)
                        guard let last = batch.last, await send(batch) else { return }
                        reached.value.store(last.revision, ordering: .relaxed)
                    }
                }
                if bookmarks {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            guard await emit(encode.bookmark(reached.value.load(ordering: .relaxed))) else { return }
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        })
    }

    /// A stream of byte chunks fed by `produce` (which returns when done; `emit(chunk)` waits
    /// while the client is far behind, and says false once it is gone), ended after `timeout` at
    /// the latest.
    static func lines(timeout: Duration, _ produce: @escaping @Sendable (_ emit: @escaping @Sendable (_ chunk: [UInt8]) async -> Bool) async throws -> Void) -> ChunkStream {
        ChunkStream(timeout: timeout, produce: produce)
    }
}

/// A streamed answer (a watch, `events?follow=1`): its producer runs as a child task of the task
/// that writes the response — nothing outlives the request. What the producer emits while the
/// socket is busy waits in a `Mailbox`, and the writer takes all of it in one write: the slower the
/// client, the bigger each write, so a thousand watchers cost a thousand writes per round, not one
/// per event and watcher. A producer more than `Mailbox.limit` bytes ahead of its client waits.
public struct ChunkStream: Sendable {
    let timeout: Duration
    let produce: @Sendable (_ emit: @escaping @Sendable (_ chunk: [UInt8]) async -> Bool) async throws -> Void

    /// Runs the producer and hands what it emitted to `write` until the producer is done, the
    /// timeout passes, `write` throws (the client went away), the task is cancelled, or the server
    /// shuts down gracefully.
    public func run(_ write: ([UInt8]) async throws -> Void) async throws {
        let mailbox = Mailbox()
        let (produce, timeout) = (self.produce, self.timeout)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask { try? await produce { chunk in await mailbox.put(chunk) } }
                    inner.addTask { try? await sleep(for: timeout) }
                    await inner.next()
                    inner.cancelAll()
                }
                mailbox.finish()
            }
            defer { mailbox.finish() }
            try await withGracefulShutdownHandler {
                while let bytes = await mailbox.take() { try await write(bytes) }
            } onGracefulShutdown: {
                mailbox.finish()
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

/// The bytes a stream's producer emitted that its writer has not taken yet: one producer and one
/// writer, each waiting for the other only when it has to (the writer when nothing is there, the
/// producer when `limit` bytes are).
final class Mailbox: Sendable {
    /// Bytes waiting before the producer waits too.
    static let limit = 1 << 20

    private struct State {
        var bytes: [UInt8] = []
        var finished = false
        var taker: CheckedContinuation<[UInt8]?, Never>?
        var putter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Adds `chunk`; waits while `limit` bytes wait for the writer. False once the stream is finished.
    func put(_ chunk: [UInt8]) async -> Bool {
        enum Next { case done(Bool), hand(CheckedContinuation<[UInt8]?, Never>), wait }
        let next = state.withLock { s -> Next in
            if s.finished { return .done(false) }
            if let taker = s.taker {
                s.taker = nil
                return .hand(taker)
            }
            s.bytes += chunk
            return s.bytes.count >= Self.limit ? .wait : .done(true)
        }
        switch next {
        case .done(let open): return open
        case .hand(let taker):
            taker.resume(returning: chunk)
            return true
        case .wait:
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resume = state.withLock { s -> Bool in
                        if s.finished || s.bytes.count < Self.limit || Task.isCancelled { return true }
                        s.putter = c
                        return false
                    }
                    if resume { c.resume() }
                }
            } onCancel: {
                state.withLock { s in defer { s.putter = nil }; return s.putter }?.resume()
            }
            return state.withLock { !$0.finished }
        }
    }

    /// Everything put since the last take, waiting until there is something; nil once finished.
    func take() async -> [UInt8]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[UInt8]?, Never>) in
                enum Next { case give([UInt8]?, CheckedContinuation<Void, Never>?), wait }
                let next = state.withLock { s -> Next in
                    if !s.bytes.isEmpty {
                        defer { s.bytes = []; s.putter = nil }
                        return .give(s.bytes, s.putter)
                    }
                    if s.finished || Task.isCancelled { return .give(nil, nil) }
                    s.taker = c
                    return .wait
                }
                if case .give(let bytes, let putter) = next {
                    putter?.resume()
                    c.resume(returning: bytes)
                }
            }
        } onCancel: {
            finish()
        }
    }

    /// Ends the stream: the writer takes what is left, then nil; the producer's puts say false.
    func finish() {
        let (taker, putter) = state.withLock { s in
            s.finished = true
            defer { s.taker = nil; s.putter = nil }
            // A waiting writer has nothing left to take.
            return (s.taker, s.putter)
        }
        taker?.resume(returning: nil)
        putter?.resume()
    }
}

/// Turns watch events into the JSON lines of a watch response, as objects or as Table rows.
struct WatchLineEncoder: Sendable {
    var kind: ResourceKind
    var table: Bool
    var includeObject: String?

    func line(_ e: WatchEvent) -> [UInt8] {
        if table, let json = try? e.object(), let typed = try? kind.decode(json, strict: false) {
            let object = Tables.table(kind, [(typed, json)], revision: e.revision, includeObject: includeObject, now: Date())
            let doc: JSONValue = ["type": .string(e.type.rawValue), "object": object]
            return doc.serialized() + [UInt8(ascii: "\n")]
        }
        return e.line
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
