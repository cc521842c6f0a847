import ArgumentParser
import AuditLog
import ClusterModel
import Foundation
import Journal

/// `kj bench import`: `kj import audit` of a large audit log of pod creations at level
/// RequestResponse, against reading and parsing the same lines alone.
struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "kj import audit of RequestResponse pod events, against parsing the same log alone.",
        discussion: """
            The log is generated: pods created by the ReplicaSet controller, each a full Pod as \
            request and response (about 3 KiB per line, like the creations in real audit logs), in \
            one file. import_audit_events_per_s is the whole import (read, fold, order, journal into \
            a new journal, synced once at the end, as kj import audit does); parse_events_per_s reads \
            and parses the lines and nothing else, the floor of any importer; ratio_import_to_parse \
            compares them. journal_bytes_per_1000_events is the journal's pages in use per 1,000 \
            audit events (log_bytes_per_event: the log's). Each figure is the median of --runs.
            """)

    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Audit events in the generated log.") var events = 200_000
    @Option(help: "Runs of each measurement; the median is reported.") var runs = 3
    @Option(help: ArgumentHelp("Where to create the log and the journals.", valueName: "dir")) var dir: String?

    func run() async throws {
        let root = (dir ?? NSTemporaryDirectory()) + "/kj-bench-import-\(getpid())"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = root + "/audit.log"
        let logBytes = try Self.generate(events: max(1, events), into: log)
        var samples: [String: [Double]] = [:]
        for run in 0..<max(1, runs) {
            // The floor: the file read and each line parsed.
            var start = ContinuousClock.now
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: log)))
            var parsed = 0
            for line in bytes.split(separator: UInt8(ascii: "\n")) where (try? JSONValue.parse(Array(line))) != nil { parsed += 1 }
            samples["parse_events_per_s", default: []].append(Double(parsed) / (ContinuousClock.now - start).seconds)

            let target = root + "/journal-\(run)"
            start = ContinuousClock.now
            let summary = try await AuditJournal.importing([try AuditLogFile(path: log)], into: target)
            samples["import_audit_events_per_s", default: []].append(Double(summary.auditEvents) / (ContinuousClock.now - start).seconds)
            guard summary.writes == events else { throw CLIError("the import journalled \(summary.writes) writes of \(events) events") }
            let journal = try Journal.open(at: target, options: .reader)
            let used = try journal.stat().usedBytes
            journal.close()
            samples["journal_bytes_per_1000_events", default: []].append(Double(used) / Double(events) * 1000)
            try FileManager.default.removeItem(atPath: target)
        }
        var r = samples.mapValues { v in v.sorted()[v.count / 2] }
        r["ratio_import_to_parse"] = r["import_audit_events_per_s"]! / r["parse_events_per_s"]!
        r["events"] = Double(events)
        r["log_bytes_per_event"] = Double(logBytes) / Double(events)
        if json {
            print(try jsonText(r.mapValues { ($0 * 1000).rounded() / 1000 }))
        } else {
            print(r.keys.sorted().map { "\($0.padding(toLength: 32, withPad: " ", startingAt: 0)) \(String(format: "%.3f", r[$0]!))" }.joined(separator: "\n"))
        }
    }

    /// Writes `events` pod creations as audit events; returns the file's size.
    static func generate(events: Int, into path: String) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw CLIError("cannot write \(path)")
        }
        defer { try? out.close() }
        let start = Timestamp(seconds: 1_767_225_600)  // 2026-01-01T00:00:00Z
        var size = 0, chunk: [UInt8] = []
        for i in 0..<events {
            let time = start.adding(microseconds: Int64(i) * 1000).rfc3339
            let name = "web-7d5b5dd9cf-\(String(i, radix: 36))", uid = String(format: "00000000-0000-4000-8000-%012x", i)
            var metadata: [String: JSONValue] = [
                "name": .string(name), "namespace": "default", "generateName": "web-7d5b5dd9cf-",
                "labels": ["app": "web", "pod-template-hash": "7d5b5dd9cf"],
                "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d5b5dd9cf", "uid": "5a0c7e1e-0000-4000-8000-000000000001",
                                     "controller": true, "blockOwnerDeletion": true]],
            ]
            var request: [String: JSONValue] = [
                "kind": "Pod", "apiVersion": "v1",
                "spec": [
                    "containers": [[
                        "name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                        "ports": [["containerPort": 80, "protocol": "TCP"]],
                        "resources": ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["memory": "256Mi"]],
                        "volumeMounts": [["name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                    ]],
                    "volumes": [["name": "kube-api-access", "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]]]]]],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
                    "schedulerName": "default-scheduler", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
                    "tolerations": [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
                                    ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]],
                ],
            ]
            request["metadata"] = .object(metadata)
            // The server adds the uid, the version, the creation time and the status.
            metadata["uid"] = .string(uid)
            metadata["resourceVersion"] = .string(String(i + 1))
            metadata["creationTimestamp"] = .string(time)
            var response = request
            response["metadata"] = .object(metadata)
            response["status"] = ["phase": "Pending", "qosClass": "Burstable"]
            let event: JSONValue = [
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "auditID": .string(String(format: "a0000000-0000-4000-8000-%012x", i)),
                "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/default/pods", "verb": "create",
                "user": ["username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts", "system:authenticated"]],
                "sourceIPs": ["10.0.0.1"], "userAgent": "kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/1234567/system:serviceaccount:kube-system:replicaset-controller",
                "objectRef": ["resource": "pods", "namespace": "default", "name": .string(name), "apiVersion": "v1"],
                "responseStatus": ["metadata": [:], "code": 201],
                "requestObject": .object(request), "responseObject": .object(response),
                "requestReceivedTimestamp": .string(time), "stageTimestamp": .string(time),
            ]
            chunk += event.serialized()
            chunk.append(UInt8(ascii: "\n"))
            if chunk.count > 1 << 20 || i == events - 1 {
                out.write(Data(chunk))
                size += chunk.count
                chunk.removeAll(keepingCapacity: true)
            }
        }
        return size
    }
}
