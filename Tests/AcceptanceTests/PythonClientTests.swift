import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// The official Python `kubernetes` client (installed from PyPI by scripts/deps.sh).
    @Suite struct PythonClientTests {
        @Test func createListWatchPatchDelete() throws {
            let cluster = try ServedCluster()
            let script = packageRoot + "/Tests/AcceptanceTests/python_client.py"
            let result = try run("/usr/bin/env", ["python3", script], environment: ["KUBECONFIG": cluster.kubeconfig])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("python client: ok"))
            let history = try cluster.kj(["history", "pod/py-pod"])
            #expect(history.stdout.contains("user/admin"), "\(history.stdout)")
        }
    }
}
