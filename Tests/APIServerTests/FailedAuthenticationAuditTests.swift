@testable import APIServer
import AuditLog
import ClusterModel
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

/// `kj serve --audit-log` logs requests that fail authentication, as kube-apiserver does: no user,
/// stage ResponseStarted, the 401 and what the request tried.
@Suite struct FailedAuthenticationAuditTests {
    @Test func aRequestWithABadTokenOrNoneIsLoggedWithoutAUser() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        let log = dir.sub("audit.log")
        let policy = try AuditPolicy(yaml: "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")
        let backend = AuditBackend(writer: try AuditLogWriter(path: log), policy: policy)
        let middleware = KubeServer.requestChain(api: api, metrics: api.metrics, limits: ServerLimits(), logger: Logger(label: "test"), audit: backend)
        let app = Application(router: KubeRoutes.router(api: api, middleware: middleware, audit: backend))
        try await app.test(.router) { client in
            let bad = try await client.execute(uri: "/api/v1/namespaces/default/secrets", method: .get, headers: [.authorization: "Bearer wrong"])
            #expect(bad.status == .unauthorized)
            let none = try await client.execute(uri: "/api/v1/nodes", method: .get)
            #expect(none.status == .unauthorized)
            let good = try await client.execute(uri: "/api/v1/nodes", method: .get, headers: [.authorization: WatchResponseTests.admin])
            #expect(good.status == .ok)
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(String($0)) }
        let refused = lines.filter { $0["responseStatus"]?["code"] == 401 }
        #expect(refused.count == 2)
        #expect(refused.allSatisfy { $0["user"] == .object([:]) && $0["stage"] == "ResponseStarted" && $0["level"] == "Metadata" })
        #expect(refused.map { $0["responseStatus"]?["message"]?.stringValue } == ["Authentication failed, attempted: bearer", "Authentication failed, no credentials provided"])
        #expect(refused.first?["objectRef"]?["resource"] == "secrets" && refused.first?["verb"] == "list")
        // The admin's request is logged as before, with its user.
        #expect(lines.contains { $0["user"]?["username"] == "admin" && $0["stage"] == "ResponseComplete" })
        // And read back: two refused requests by no one known.
        let imported = try AuditImport([try AuditLogFile(path: log)], after: nil)
        #expect(imported.summary.refused == 2)
        #expect(imported.drafts.filter { $0.actor == AuditImport.unauthenticated }.count == 2)
    }
}
