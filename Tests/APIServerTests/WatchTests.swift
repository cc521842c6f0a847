@testable import APIServer
import ClusterModel
import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import Journal
import Logging
import Testing
import TestSupport

/// Watches through the server's routes and middleware, in process: replay from a past revision, bookmarks while
/// quiet, the end at `timeoutSeconds`, Tables for `kubectl get -w`.
@Suite struct WatchResponseTests {
    static let admin = "Bearer t0ken"

    static func api(_ dir: TemporaryDirectory) async throws -> (KubeAPI, Journal) {
        let journal = try Journal.open(at: dir.sub("journal"), options: JournalOptions(durability: .noSync))
        let store = try await Store.open(journal: journal, clock: ManualClock(Timestamp(microseconds: 1_700_000_000_000_000)))
        let tokens = try TokenFile(text: "t0ken,admin,1,\"system:masters\"\n")
        return (KubeAPI(store: store, tokens: tokens, metrics: ServerMetrics(), bookmarkInterval: .milliseconds(300)), journal)
    }

    static func request(_ method: String, _ target: String, body: String = "", accept: String = "application/json") -> APIRequest {
        let (path, query) = APIRequest.split(target: target)
        return APIRequest(method: method, path: path, query: query, headers: ["authorization": admin, "accept": accept], body: Array(body.utf8))
    }

    /// An answer as a client reads it.
    struct Answer {
        var status: Int
        var contentType: String?
        var body: [UInt8]
        var json: JSONValue? { try? JSONValue.parse(body) }
        /// The body as JSON lines (a watch).
        func lines() throws -> [JSONValue] { try body.split(separator: UInt8(ascii: "\n")).map { try JSONValue.parse(Array($0)) } }
    }

    /// Sends one request through `kj serve`'s router and middleware, in process, with `token`
    /// (the admin's unless told).
    static func send(_ api: KubeAPI, _ method: HTTPRequest.Method, _ target: String, body: String = "", accept: String = "application/json",
                     token: String? = admin) async throws -> Answer {
        let middleware = KubeServer.requestChain(api: api, metrics: api.metrics, limits: ServerLimits(), logger: Logger(label: "test"))
        let app = Application(router: KubeRoutes.router(api: api, middleware: middleware))
        return try await app.test(.router) { client in
            var headers: HTTPFields = [.accept: accept, .contentType: "application/json"]
            if let token { headers[.authorization] = token }
            let r = try await client.execute(uri: target, method: method, headers: headers,
                                             body: body.isEmpty ? nil : ByteBuffer(string: body))
            return Answer(status: Int(r.status.code), contentType: r.headers[.contentType], body: Array(r.body.readableBytesView))
        }
    }

    @Test func aWatchFromThePastReplaysThenBookmarksUntilItsTimeout() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await Self.api(dir)
        defer { journal.close() }
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
        let created = try await Self.send(api, .post, "/api/v1/namespaces/default/pods", body: pod)
        #expect(created.status == 201)
        let revision = try #require(created.json?["metadata"]?["resourceVersion"]?.stringValue)
        let started = ContinuousClock.now
        let events = try await Self.send(api, .get, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=2").lines()
        #expect(ContinuousClock.now - started >= .seconds(2), "the watch lasts until its timeout")
        #expect(events.first?["type"] == "ADDED")
        #expect(events.first?["object"]?["metadata"]?["name"] == "w")
        let bookmarks = events.filter { $0["type"] == "BOOKMARK" }
        // One every 300 ms of quiet; on a loaded machine the task may run late, so ask for one at least.
        #expect(!bookmarks.isEmpty, "bookmarks while quiet: \(events)")
        #expect(bookmarks.allSatisfy { $0["object"]?["metadata"]?["resourceVersion"]?.stringValue == revision })
        #expect(bookmarks.first?["object"]?["kind"] == "Pod")
    }

    /// Behind kube-apiserver's watch cache a watch from too far back is expired: its one event is
    /// an ERROR with 410 Expired, and the client lists again.
    @Test func aWatchFromBeforeTheWindowIsExpired() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.sub("journal"), options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let store = try await Store.open(journal: journal, clock: ManualClock(Timestamp(microseconds: 1_700_000_000_000_000)))
        let api = KubeAPI(store: store, tokens: try TokenFile(text: "t0ken,admin,1,\"system:masters\"\n"), metrics: ServerMetrics(), watchWindow: 3)
        for name in ["a", "b", "c", "d", "e"] {
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
            #expect(try await Self.send(api, .post, "/api/v1/namespaces/default/pods", body: pod).status == 201)
        }
        let head = store.signal.head
        let expired = try await Self.send(api, .get, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=\(head - 4)&timeoutSeconds=5").lines()
        #expect(expired.count == 1)
        #expect(expired.first?["type"] == "ERROR")
        let status = expired.first?["object"]
        #expect(status?["code"] == 410 && status?["reason"] == "Expired" && status?["kind"] == "Status")
        #expect(status?["message"]?.stringValue == "too old resource version: \(head - 4) (\(head - 3))")
        // Within the window the watch replays what followed.
        let replayed = try await Self.send(api, .get, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=\(head - 3)&timeoutSeconds=1").lines()
        #expect(replayed.map { $0["type"] } == ["ADDED", "ADDED", "ADDED"])
    }

    @Test func kubectlGetWatchReceivesTableRows() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await Self.api(dir)
        defer { journal.close() }
        _ = try await Self.send(api, .post, "/api/v1/namespaces/default/pods",
                                body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"t"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
        let events = try await Self.send(api, .get, "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1",
                                         accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json").lines()
        let table = try #require(events.first?["object"])
        #expect(events.first?["type"] == "ADDED")
        #expect(table["kind"] == "Table")
        #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.prefix(5) == ["Name", "Ready", "Status", "Restarts", "Age"])
        #expect(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.first == "t")
    }
}

/// Discovery in both forms: aggregated (what kubectl 1.32 asks for first) and legacy.
@Suite struct DiscoveryTests {
    @Test func aggregatedDiscoveryListsEveryResourceWithItsSubresources() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        let aggregated = try await WatchResponseTests.send(api, .get, "/api", accept: accept)
        #expect(aggregated.status == 200)
        #expect(aggregated.contentType == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        let core = try #require(aggregated.json)
        let resources = core["items"]?.arrayValue?.first?["versions"]?.arrayValue?.first?["resources"]?.arrayValue ?? []
        #expect(resources.compactMap { $0["resource"]?.stringValue } == [
            "configmaps", "endpoints", "events", "limitranges", "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes",
            "pods", "resourcequotas", "secrets", "serviceaccounts", "services",
        ])
        let pods = try #require(resources.first { $0["resource"] == "pods" })
        #expect(pods["scope"] == "Namespaced" && pods["shortNames"] == ["po"])
        #expect(pods["subresources"]?.arrayValue?.compactMap { $0["subresource"]?.stringValue } == ["status", "binding", "eviction"])
        #expect(pods["subresources"]?.arrayValue?.last?["responseKind"] == ["group": "policy", "version": "v1", "kind": "Eviction"])

        let apps = try #require(try await WatchResponseTests.send(api, .get, "/apis", accept: accept).json)
        let groups = apps["items"]?.arrayValue ?? []
        #expect(groups.map { "\($0["metadata"]?["name"]?.stringValue ?? "")/\($0["versions"]?.arrayValue?.first?["version"]?.stringValue ?? "")" } == [
            "apps/v1", "autoscaling/v2", "batch/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "networking.k8s.io/v1",
            "policy/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1", "authorization.k8s.io/v1",
        ])
        let group = try #require(groups.first)
        let deployments = group["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.first { $0["resource"] == "deployments" }
        #expect(deployments?["subresources"]?.arrayValue?.last?["responseKind"] == ["group": "autoscaling", "version": "v1", "kind": "Scale"])

        let legacy = try await WatchResponseTests.send(api, .get, "/api")
        #expect(legacy.status == 200 && legacy.json?["kind"] == "APIVersions")
    }
}

/// What a streamed answer's producer emits while the socket is busy is written in one piece.
@Suite struct MailboxTests {
    @Test(.timeLimit(.minutes(1))) func chunksPutWhileTheWriterIsBusyAreTakenInOneWrite() async throws {
        let mailbox = Mailbox()
        for i in 0..<100 { #expect(await mailbox.put(Array("line \(i)\n".utf8))) }
        let taken = try #require(await mailbox.take())
        #expect(String(decoding: taken, as: UTF8.self) == (0..<100).map { "line \($0)\n" }.joined())
        // A writer waiting gets the next chunk as it is put.
        async let next = mailbox.take()
        try await Task.sleep(for: .milliseconds(50))
        #expect(await mailbox.put(Array("x".utf8)))
        #expect(await next == Array("x".utf8))
        // Past the limit the producer waits until the writer takes what is there.
        let big = [UInt8](repeating: 65, count: Mailbox.limit)
        let putter = Task { await mailbox.put(big) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await mailbox.take()?.count == Mailbox.limit)
        #expect(await putter.value)
        // Finished: what is left is taken, then nil; puts say the stream is gone.
        #expect(await mailbox.put(Array("last".utf8)))
        mailbox.finish()
        #expect(await mailbox.take() == Array("last".utf8))
        #expect(await mailbox.take() == nil)
        #expect(await mailbox.put(Array("late".utf8)) == false)
    }
}

/// Lists are written from the stored bytes (resourceVersion spliced in) and Tables from cells read
/// in place: they must say what the decoded objects say, page by page and at past revisions.
@Suite struct StoredListTests {
    @Test func listsAndTablesFromStoredBytesAreTheDecodedObjects() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        var answers: [JSONValue?] = []
        for i in 0..<7 {
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p\#(i)","labels":{"app":"\#(i % 2 == 0 ? "web" : "db")"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
            let created = try await WatchResponseTests.send(api, .post, "/api/v1/namespaces/default/pods", body: pod)
            #expect(created.status == 201)
            answers.append(created.json)
        }
        // A create's answer (the stored bytes) and a get's are the object as decoded.
        let p1 = try KubeAPI.json(try await api.store.get(.pod, namespace: "default", name: "p1"))
        #expect(answers[1] == p1 && p1["metadata"]?["resourceVersion"] != nil)
        #expect(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods/p1").json == p1)
        let dryRun = try await WatchResponseTests.send(api, .post, "/api/v1/namespaces/default/pods?dryRun=All",
                                                       body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dry"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
        #expect(dryRun.status == 201 && dryRun.json?["metadata"]?["name"] == "dry")
        let middle = api.store.signal.head
        #expect(try await WatchResponseTests.send(api, .delete, "/api/v1/namespaces/default/pods/p0").status == 200)
        let (store, head) = (api.store, api.store.signal.head)
        let decoded = try await store.list(.pod, namespace: "default").items
        let list = try #require(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods").json)
        #expect(list["kind"] == "PodList" && list["apiVersion"] == "v1" && list["metadata"]?["resourceVersion"]?.stringValue == String(head))
        #expect(list["items"]?.arrayValue == (try decoded.map { try ValueEncoder().encode($0) }))

        // Pages by label, the token carrying the revision the list began at.
        let first = try #require(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=2").json)
        #expect(first["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["p2", "p4"])
        let token = try #require(first["metadata"]?["continue"]?.stringValue)
        let rest = try #require(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=2&continue=\(token)").json)
        #expect(rest["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["p6"] && rest["metadata"]?["continue"] == nil)

        // The past: p0 is back at the revision before its deletion.
        let past = try #require(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods?resourceVersion=\(middle)&resourceVersionMatch=Exact").json)
        #expect(past["items"]?.arrayValue?.count == 7 && past["items"]?.arrayValue?.first?["metadata"]?["name"] == "p0")

        // Tables: cells as the decoded pods', each row with its metadata, the object, or nothing.
        let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        let now = Date()
        for include in ["Metadata", "Object", "None"] {
            let table = try #require(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods?includeObject=\(include)", accept: tableAccept).json)
            let rows = try #require(table["rows"]?.arrayValue)
            #expect(rows.count == decoded.count)
            for (row, pod) in zip(rows, decoded) {
                let cells = row["cells"]?.arrayValue?.map { $0.stringValue ?? String(decoding: $0.serialized(), as: UTF8.self) }
                let expected = ResourceKind.pod.definition.cells(pod, now: now)
                // Ages may differ by the second the request took; every other cell is the same.
                #expect(cells?.enumerated().filter { $0.offset != 4 }.map(\.element) == expected.enumerated().filter { $0.offset != 4 }.map(\.element))
                switch include {
                case "Metadata":
                    #expect(row["object"]?["kind"] == "PartialObjectMetadata")
                    #expect(row["object"]?["metadata"] == (try ValueEncoder().encode(pod))["metadata"])
                case "Object": #expect(row["object"] == (try ValueEncoder().encode(pod)))
                default: #expect(row["object"] == nil)
                }
            }
        }
    }
}
