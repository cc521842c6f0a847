import Foundation
import Testing
import TestSupport

/// `kj bench api` in a tiny configuration: a test of the command and its JSON, not of speed.
@Suite struct APIBenchTests {
    static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    @Test(.enabled(if: onPath("wrk"), "needs wrk (apt-get install wrk)"))
    func tinyRunReportsEveryFigure() throws {
        let etcd = Self.onPath("etcd")
        let dir = TemporaryDirectory("kj-bench-api")
        var arguments = ["bench", "api", "--json", "--duration", "2", "--connections", "8", "--runs", "1",
                         "--watchers", "5", "--events", "50", "--watch-writers", "2", "--dir", dir.path]
        if !etcd { arguments.append("--no-etcd") }
        let result = try runKJ(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double], "\(result.stdout)")
        for key in ["create_pods_per_s", "create_pods_unscheduled_per_s"] {
            #expect((json[key] ?? 0) > 0, "\(key)")
        }
        #expect((json["create_pods_acknowledged"] ?? 0) > 0)
        #expect((json["create_pods_in_journal"] ?? 0) >= (json["create_pods_acknowledged"] ?? .infinity))
        #expect((json["create_pods_unscheduled_in_journal"] ?? 0) >= (json["create_pods_unscheduled_acknowledged"] ?? .infinity))
        #expect(json["watchers_complete"] == 5)
        #expect(json["watch_events"] == 50)
        let p50 = try #require(json["watch_latency_p50_ms"]), p99 = try #require(json["watch_latency_p99_ms"])
        #expect(p50 >= 0 && p50 <= p99 && p99 < 60_000)
        if etcd {
            #expect((json["etcd_put_per_s"] ?? 0) > 0)
            #expect(json["ratio"].map { $0 > 0 } == true)
        } else {
            #expect(json["etcd_put_per_s"] == nil)
        }
    }

    @Test func aMissingToolIsNamedWithItsInstallCommand() throws {
        let result = try runKJ(["bench", "api", "--wrk", "kj-no-such-wrk", "--no-etcd"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("kj-no-such-wrk not found on PATH") && result.stderr.contains("apt-get install wrk"), "\(result.stderr)")
    }
}
