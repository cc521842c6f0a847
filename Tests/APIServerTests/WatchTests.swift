@testable import APIServer
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Testing
import TestSupport

/// Watches through `KubeAPI.handle`, in process: replay from a past revision, bookmarks while
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

    static func lines(_ response: APIResponse) async throws -> [JSONValue] {
        guard case .stream(let chunks) = response else { Issue.record("not a stream: \(response)"); return [] }
        var bytes: [UInt8] = []
        try await chunks.run { bytes += $0 }
        return try bytes.split(separator: UInt8(ascii: "\n")).map { try JSONValue.parse(Array($0)) }
    }

    @Test func aWatchFromThePastReplaysThenBookmarksUntilItsTimeout() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await Self.api(dir)
        defer { journal.close() }
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
        guard case .json(201, let created) = await api.handle(Self.request("POST", "/api/v1/namespaces/default/pods", body: pod)) else {
            Issue.record("create failed")
            return
        }
        let revision = try #require(created["metadata"]?["resourceVersion"]?.stringValue)
        let started = ContinuousClock.now
        let events = try await Self.lines(await api.handle(Self.request(
            "GET", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=2")))
        #expect(ContinuousClock.now - started >= .seconds(2), "the watch lasts until its timeout")
        #expect(events.first?["type"] == "ADDED")
        #expect(events.first?["object"]?["metadata"]?["name"] == "w")
        let bookmarks = events.filter { $0["type"] == "BOOKMARK" }
        // One every 300 ms of quiet; on a loaded machine the task may run late, so ask for one at least.
        #expect(!bookmarks.isEmpty, "bookmarks while quiet: \(events)")
        #expect(bookmarks.allSatisfy { $0["object"]?["metadata"]?["resourceVersion"]?.stringValue == revision })
        #expect(bookmarks.first?["object"]?["kind"] == "Pod")
    }

    @Test func kubectlGetWatchReceivesTableRows() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await Self.api(dir)
        defer { journal.close() }
        _ = await api.handle(Self.request("POST", "/api/v1/namespaces/default/pods",
                                          body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"t"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#))
        let events = try await Self.lines(await api.handle(Self.request(
            "GET", "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1", accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")))
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
        guard case .document(200, let core, let type) = await api.handle(WatchResponseTests.request("GET", "/api", accept: accept)) else {
            Issue.record("no aggregated document for /api")
            return
        }
        #expect(type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        let resources = core["items"]?.arrayValue?.first?["versions"]?.arrayValue?.first?["resources"]?.arrayValue ?? []
        #expect(resources.compactMap { $0["resource"]?.stringValue } == [
            "configmaps", "endpoints", "events", "limitranges", "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes",
            "pods", "resourcequotas", "secrets", "serviceaccounts", "services",
        ])
        let pods = try #require(resources.first { $0["resource"] == "pods" })
        #expect(pods["scope"] == "Namespaced" && pods["shortNames"] == ["po"])
        #expect(pods["subresources"]?.arrayValue?.compactMap { $0["subresource"]?.stringValue } == ["status", "binding", "eviction"])
        #expect(pods["subresources"]?.arrayValue?.last?["responseKind"] == ["group": "policy", "version": "v1", "kind": "Eviction"])

        guard case .document(200, let apps, _) = await api.handle(WatchResponseTests.request("GET", "/apis", accept: accept)) else {
            Issue.record("no aggregated document for /apis")
            return
        }
        let groups = apps["items"]?.arrayValue ?? []
        #expect(groups.map { "\($0["metadata"]?["name"]?.stringValue ?? "")/\($0["versions"]?.arrayValue?.first?["version"]?.stringValue ?? "")" } == [
            "apps/v1", "autoscaling/v2", "batch/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "networking.k8s.io/v1",
            "policy/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1", "authorization.k8s.io/v1",
        ])
        let group = try #require(groups.first)
        let deployments = group["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.first { $0["resource"] == "deployments" }
        #expect(deployments?["subresources"]?.arrayValue?.last?["responseKind"] == ["group": "autoscaling", "version": "v1", "kind": "Scale"])

        guard case .json(200, let legacy) = await api.handle(WatchResponseTests.request("GET", "/api")) else {
            Issue.record("no legacy document for /api")
            return
        }
        #expect(legacy["kind"] == "APIVersions")
    }
}
