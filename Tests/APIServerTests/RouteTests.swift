@testable import APIServer
import ClusterModel
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The router: every kind's paths under its group-version, the verbs each path takes, and
/// kube-apiserver's 404 and 405 `Status` for the rest.
@Suite struct RouteTests {
    @Test func everyKindIsServedUnderItsGroupVersionWithItsVerbs() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        // A list of every kind, at its own path.
        for kind in ResourceKind.allCases {
            let prefix = kind.group.isEmpty ? "/api/v1" : "/apis/\(kind.apiVersion)"
            let path = prefix + (kind.namespaced ? "/namespaces/default/" : "/") + kind.plural
            let answer = try await WatchResponseTests.send(api, .get, path)
            #expect(answer.status == 200, "\(path): \(answer.status)")
            #expect(answer.json?["kind"]?.stringValue == kind.kind + "List", "\(path)")
        }
        // Namespaced kinds also list across namespaces; cluster-scoped ones have no namespaced path.
        #expect(try await WatchResponseTests.send(api, .get, "/apis/apps/v1/deployments").status == 200)
        let nodesInANamespace = try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/nodes")
        #expect(nodesInANamespace.status == 404 && nodesInANamespace.json?["kind"] == "Status")
        // A kind under another group's version is not there.
        #expect(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/deployments").status == 404)
        #expect(try await WatchResponseTests.send(api, .get, "/apis/apps/v2/namespaces/default/deployments").status == 404)
    }

    @Test func aMethodAPathDoesNotTakeIs405AndAnUnknownPathIs404() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        let wrongMethod = try await WatchResponseTests.send(api, .post, "/api/v1/namespaces/default/pods/w")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.json?["reason"] == "MethodNotAllowed")
        #expect(wrongMethod.json?["message"] == "the server does not allow this method on the requested resource")
        // Subresources take only their verbs: a binding is created, never read.
        #expect(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods/w/binding").status == 405)
        // A subresource a kind lacks is not there.
        #expect(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/configmaps/c/status").status == 404)
        for path in ["/apis/apps/v1/namespaces/default/widgets", "/apis/example.com/v1", "/nowhere", "/"] {
            let missing = try await WatchResponseTests.send(api, .get, path)
            #expect(missing.status == 404, "\(path)")
            #expect(missing.json?["message"] == "the server could not find the requested resource", "\(path)")
        }
        // Without a token, even a missing path is 401: authentication comes before routing's answer.
        let anonymous = try await WatchResponseTests.send(api, .get, "/nowhere", token: nil)
        #expect(anonymous.status == 401)
        #expect(try await WatchResponseTests.send(api, .get, "/version", token: nil).status == 200)
    }
}
