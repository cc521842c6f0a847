import ClusterModel
import Foundation
import ControlPlane
import Journal
import ClusterClient
import Logging
import ServiceLifecycle

/// Records a live Kubernetes API server into a journal by listing and watching it, as client-go's
/// informers do: per kind, a list, then a watch from the list's resourceVersion with bookmarks;
/// after a watch ends, a new watch from the last resourceVersion seen; on `410 Gone` (the server
/// no longer holds that far back) a new list, whose differences are journalled; on any other
/// failure a back-off (0.8 s doubling to 30 s, as client-go's reflector). A recording carries on
/// where the journal ends: each kind's watch resumes from the newest resourceVersion recorded.
///
/// Every change is journalled (durably) when it is seen, at the time it is seen (see
/// `RecordedState` for how a change becomes an event).
public struct Recorder: ServiceLifecycle.Service, Sendable {
    public struct Configuration: Sendable {
        public var kinds: [ResourceKind]
        /// How long one watch request lasts before the recorder watches again (client-go: 5–10 min).
        public var watchTimeoutSeconds = 300
        /// Objects per list page.
        public var pageSize = 500
        public var initialBackoff: Duration = .milliseconds(800)
        public var maximumBackoff: Duration = .seconds(30)

        public init(kinds: [ResourceKind]) {
            self.kinds = kinds
        }
    }

    /// A kind listed in full: at its resourceVersion, with so many objects, for a reason
    /// (`start` or `expired`).
    public typealias Listed = @Sendable (_ kind: ResourceKind, _ resourceVersion: String, _ items: Int, _ reason: String) -> Void

    let client: KubeClient
    let journal: Journal
    let configuration: Configuration
    let clock: any ClusterClock
    let logger: Logger
    let listed: Listed

    public init(client: KubeClient, journal: Journal, configuration: Configuration, clock: any ClusterClock, logger: Logger,
                listed: @escaping Listed = { _, _, _, _ in }) {
        self.client = client
        self.journal = journal
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.listed = listed
    }

    /// What a kind's list or watch saw, in the order seen.
    enum Observation: Sendable {
        case event(ResourceKind, watchType: String, object: JSONValue, seen: Timestamp)
        case listed(ResourceKind, items: [JSONValue], resourceVersion: String, reason: String, seen: Timestamp)
    }

    /// Records until cancelled or told to shut down gracefully.
    public func run() async throws {
        let recorded = try journal.read { try RecordedState(journal: $0) }
        let resume = recorded.resumeFrom
        let (observations, sink) = AsyncStream.makeStream(of: Observation.self)
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for kind in configuration.kinds {
                    group.addTask { await informer(kind, resumeFrom: resume[kind.rawValue], sink: sink) }
                }
                group.addTask {
                    // One writer: the observations of every kind, journalled in the order they came.
                    var state = recorded
                    for await observation in observations {
                        _ = try await journal.append(Self.drafts(for: observation, in: &state))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    static func drafts(for observation: Observation, in state: inout RecordedState) -> [EventDraft] {
        switch observation {
        case .event(let kind, let type, let object, let seen):
            return state.observe(type, object, kind: kind, at: seen).map { [$0] } ?? []
        case .listed(let kind, let items, let rv, let reason, let seen):
            let (drafts, deleted) = state.relist(kind, items: items, resourceVersion: rv, at: seen)
            let data: JSONValue = ["resourceVersion": .string(rv), "reason": .string(reason), "items": .int(Int64(items.count)),
                                   "changed": .int(Int64(drafts.count - deleted)), "deletedUnseen": .int(Int64(deleted))]
            let listed = EventDraft(time: seen, type: RecordEventType.listed, actor: RecordedState.recorderActor,
                                    object: ObjectRef(kind: kind.rawValue, name: "*"), request: RecordedState.requestPrefix + rv, data: data.serialized())
            return [listed] + drafts
        }
    }

    // MARK: one kind

    /// Lists and watches `kind` until cancelled.
    func informer(_ kind: ResourceKind, resumeFrom: String?, sink: AsyncStream<Observation>.Continuation) async {
        var resourceVersion = resumeFrom
        var listReason = "start"
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let (items, rv) = try await list(kind)
                    sink.yield(.listed(kind, items: items, resourceVersion: rv, reason: listReason, seen: clock.now()))
                    listed(kind, rv, items.count, listReason)
                    logger.info("listed", metadata: ["kind": "\(kind)", "resourceVersion": "\(rv)", "items": "\(items.count)", "reason": "\(listReason)"])
                    resourceVersion = rv
                }
                let from = resourceVersion ?? "0"
                try await watch(kind, from: from, into: sink) { rv in resourceVersion = rv }
                backoff = configuration.initialBackoff
            } catch let error as KubeClientError where error.isExpired {
                // The server no longer holds changes from that far back: list again.
                logger.notice("watch expired; listing again", metadata: ["kind": "\(kind)", "resourceVersion": "\(resourceVersion ?? "")", "reason": "\(error)"])
                resourceVersion = nil
                listReason = "expired"
            } catch let error as KubeClientError where error.httpStatus == 404 {
                logger.warning("not served by the server; not recorded", metadata: ["kind": "\(kind)"])
                return
            } catch is CancellationError {
                return
            } catch {
                logger.warning("list or watch failed; trying again", metadata: ["kind": "\(kind)", "error": "\(error)", "backoff": "\(backoff)"])
                do { try await Task.sleep(for: backoff) } catch { return }
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    /// Every object of `kind`, page by page, and the list's resourceVersion.
    private func list(_ kind: ResourceKind) async throws -> (items: [JSONValue], resourceVersion: String) {
        var items: [JSONValue] = []
        var next: String?
        repeat {
            var query = [("limit", String(configuration.pageSize))]
            if let next { query.append(("continue", next)) }
            let page = try await client.get(Self.path(kind, query))
            items += page["items"]?.arrayValue ?? []
            next = page["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if next == nil {
                guard let rv = page["metadata"]?["resourceVersion"]?.stringValue else {
                    throw KubeClientError(.malformed, "the list of \(kind.plural) has no resourceVersion")
                }
                return (items, rv)
            }
        } while true
    }

    /// One watch of `kind` from `resourceVersion`, until the server ends it; `reached` is told each
    /// resourceVersion seen (of a change or a bookmark); changes go to `sink`.
    private func watch(_ kind: ResourceKind, from resourceVersion: String, into sink: AsyncStream<Observation>.Continuation,
                       reached: (String) -> Void) async throws {
        let timeout = configuration.watchTimeoutSeconds
        let path = Self.path(kind, [("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
                                    ("timeoutSeconds", String(timeout))])
        try await client.stream(path, deadline: .seconds(timeout + 30)) { line in
            let object = line["object"] ?? .null
            let rv = object["metadata"]?["resourceVersion"]?.stringValue
            switch line["type"]?.stringValue {
            case "ADDED", "MODIFIED", "DELETED":
                sink.yield(.event(kind, watchType: line["type"]?.stringValue ?? "", object: object, seen: clock.now()))
            case "BOOKMARK":
                break
            case "ERROR":
                let code = object["code"]?.intValue.map(Int.init)
                throw KubeClientError(.status, "watch of \(kind.plural): \(object["message"]?.stringValue ?? "error")", httpStatus: code,
                                      reason: object["reason"]?.stringValue)
            default:
                throw KubeClientError(.malformed, "watch of \(kind.plural): a line of unknown type \(line["type"]?.stringValue ?? "(none)")")
            }
            if let rv { reached(rv) }
            return true
        }
    }

    /// The API path of `kind`'s collection in every namespace, with `query`.
    public static func path(_ kind: ResourceKind, _ query: [(String, String)]) -> String {
        let base = kind.group.isEmpty ? "/api/\(kind.version)/\(kind.plural)" : "/apis/\(kind.group)/\(kind.version)/\(kind.plural)"
        let encoded = query.map { k, v in k + "=" + (v.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? v) }
        return query.isEmpty ? base : base + "?" + encoded.joined(separator: "&")
    }
}
