@testable import APIServer
import ClusterModel
import ControlPlane
import Foundation
import Testing

/// Protobuf request bodies: the ones in `fixtures/` were captured from kubectl 1.32 talking to
/// `kj serve` (`kubectl create namespace|deployment|service …`, and the DeleteOptions of
/// `kubectl drain`); kinds kubectl never sends as protobuf are built with `PB` below.
@Suite struct ProtobufFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fixtures").path

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)))
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func namespace() throws {
        // kubectl create namespace prod
        let decoded = try KubeProtobuf.decode(try Self.fixture("namespace-prod.pb"))
        #expect(decoded == (try Self.json(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod"},"spec":{},"status":{}}"#)))
        let ns = try #require(try ResourceKind.namespace.decode(decoded) as? Namespace)
        #expect(ns.metadata.name == "prod")
    }

    @Test func deployment() throws {
        // kubectl create deployment web --image=nginx --replicas=2
        let decoded = try KubeProtobuf.decode(try Self.fixture("deployment-web.pb"))
        #expect(decoded == (try Self.json("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"strategy":{},
                     "template":{"metadata":{"labels":{"app":"web"}},
                                 "spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}}},
             "status":{}}
            """)))
        let d = try #require(try ResourceKind.deployment.decode(decoded) as? Deployment)
        #expect(d.spec.replicas == 2)
        #expect(d.spec.template.spec.containers.map(\.image) == ["nginx"])
    }

    @Test func deploymentWithPortAndCommand() throws {
        // kubectl create deployment api --image=busybox --port=8080 -- sleep 3600
        let decoded = try KubeProtobuf.decode(try Self.fixture("deployment-api.pb"))
        let container = try #require(decoded["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first)
        #expect(container == (try Self.json(#"{"name":"busybox","image":"busybox","command":["sleep","3600"],"ports":[{"containerPort":8080}],"resources":{}}"#)))
        _ = try ResourceKind.deployment.decode(decoded)
    }

    @Test func deploymentWithZeroReplicasAndTwoContainers() throws {
        // --replicas=0 is a pointer set to 0: kept, not taken for "unset".
        let zero = try KubeProtobuf.decode(try Self.fixture("deployment-zero.pb"))
        #expect(zero["spec"]?["replicas"] == .int(0))
        // kubectl create deployment multi --image=nginx --image=redis
        let multi = try KubeProtobuf.decode(try Self.fixture("deployment-multi.pb"))
        let names = multi["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["nginx", "redis"])
    }

    @Test func services() throws {
        // kubectl create service clusterip web --tcp=80:80
        let web = try KubeProtobuf.decode(try Self.fixture("service-web.pb"))
        #expect(web == (try Self.json("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"ports":[{"name":"80-80","protocol":"TCP","port":80,"targetPort":80}],"selector":{"app":"web"},"type":"ClusterIP"},
             "status":{"loadBalancer":{}}}
            """)))
        _ = try ResourceKind.service.decode(web)
        // kubectl create service nodeport np --tcp=8080:80
        let np = try KubeProtobuf.decode(try Self.fixture("service-nodeport.pb"))
        #expect(np["spec"]?["type"] == "NodePort")
        #expect(np["spec"]?["ports"]?.arrayValue?.first?["targetPort"] == .int(80))
    }

    @Test func deleteOptionsFromDrain() throws {
        // kubectl drain deletes pods with an empty DeleteOptions.
        #expect(try KubeProtobuf.decode(try Self.fixture("deleteoptions-drain.pb")) == (try Self.json(#"{"apiVersion":"v1","kind":"DeleteOptions"}"#)))
    }

    @Test func throughTheAPIBody() throws {
        let request = APIRequest(method: "POST", path: "/api/v1/namespaces", headers: ["content-type": "application/vnd.kubernetes.protobuf"],
                                 body: try Self.fixture("namespace-prod.pb"))
        #expect(try KubeAPI.body(request)["metadata"]?["name"] == "prod")
    }
}

@Suite struct ProtobufDecodingTests {
    @Test func podWithEverythingTheModelKnows() throws {
        let container = PB.cat(
            PB.string(1, "app"), PB.string(2, "nginx:1.27"),
            PB.string(3, "nginx"), PB.string(4, "-g"), PB.string(4, "daemon off;"),
            PB.message(6, PB.string(1, "http"), PB.int(3, 80), PB.string(4, "TCP")),
            PB.message(7, PB.string(1, "MODE"), PB.string(2, "prod")),
            PB.message(7, PB.string(1, "NODE"), PB.message(3, PB.message(1, PB.string(2, "spec.nodeName")))),
            PB.message(8, PB.entry(1, "cpu", quantity: "500m"), PB.entry(2, "cpu", quantity: "250m"), PB.entry(2, "memory", quantity: "128Mi")),
            PB.message(12, PB.message(2, PB.message(1, PB.string(1, "sleep"), PB.string(1, "5")))),
            PB.message(10, PB.message(1, PB.message(2, PB.string(1, "/healthz"), PB.message(2, PB.int(1, 1), PB.int(2, 0), PB.string(3, "http")))),
                       PB.int(4, 5)),
            PB.string(14, "IfNotPresent"),
            PB.int(99, 7), PB.fixed32(98), PB.fixed64(97), PB.message(96, PB.string(1, "from a newer Kubernetes")))
        let spec = PB.cat(
            PB.message(2, container),
            PB.string(3, "OnFailure"), PB.int(4, 45), PB.entry(7, "disk", "ssd"), PB.string(10, "node-2"),
            PB.message(18, PB.message(1,
                PB.message(1, PB.message(1, PB.message(1, PB.string(1, "zone"), PB.string(2, "In"), PB.string(3, "a"), PB.string(3, "b")))),
                PB.message(2, PB.int(1, 10), PB.message(2, PB.message(1, PB.string(1, "gpu"), PB.string(2, "Exists")))))),
            PB.string(19, "default-scheduler"),
            PB.message(22, PB.string(1, "node.kubernetes.io/unreachable"), PB.string(2, "Exists"), PB.string(4, "NoExecute"), PB.int(5, 0)),
            PB.int(25, 1000), PB.bool(11, false))
        let meta = PB.cat(
            PB.string(2, "web-"), PB.string(3, "prod"), PB.message(8, PB.int(1, 1_795_000_000)),
            PB.entry(11, "app", "web"), PB.entry(12, "note", "hi"),
            PB.message(13, PB.string(5, "apps/v1"), PB.string(1, "ReplicaSet"), PB.string(3, "web-1"), PB.string(4, "uid-1"), PB.bool(6, true), PB.bool(7, true)),
            PB.string(14, "example.com/hold"))
        let body = PB.envelope("v1", "Pod", PB.cat(PB.message(1, meta), PB.message(2, spec), PB.message(3)))
        let json = try KubeProtobuf.decode(body)

        #expect(json["metadata"] == (try ProtobufFixtureTests.json("""
            {"generateName":"web-","namespace":"prod","creationTimestamp":"2026-11-18T11:06:40Z","labels":{"app":"web"},"annotations":{"note":"hi"},
             "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"uid-1","controller":true,"blockOwnerDeletion":true}],
             "finalizers":["example.com/hold"]}
            """)))
        let c = try #require(json["spec"]?["containers"]?.arrayValue?.first)
        #expect(c["resources"] == (try ProtobufFixtureTests.json(#"{"limits":{"cpu":"500m"},"requests":{"cpu":"250m","memory":"128Mi"}}"#)))
        #expect(c["env"] == (try ProtobufFixtureTests.json(#"[{"name":"MODE","value":"prod"},{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}]"#)))
        #expect(c["livenessProbe"] == (try ProtobufFixtureTests.json(#"{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":5}"#)))

        let pod = try #require(try ResourceKind.pod.decode(json) as? Pod)
        #expect(pod.metadata.controllerReference?.name == "web-1")
        #expect(pod.request("cpu") == Quantity(milli: 250))
        #expect(pod.request("memory") == Quantity(128 * 1024 * 1024, format: .binarySI))
        #expect(pod.spec.containers[0].ports?.first?.containerPort == 80)
        #expect(pod.spec.containers[0].command == ["nginx"])
        #expect(pod.spec.containers[0].args == ["-g", "daemon off;"])
        #expect(pod.spec.containers[0].lifecycle?.preStop?.exec?.command == ["sleep", "5"])
        #expect(pod.spec.restartPolicy == "OnFailure")
        #expect(pod.spec.terminationGracePeriodSeconds == 45)
        #expect(pod.spec.nodeSelector == ["disk": "ssd"])
        #expect(pod.spec.nodeName == "node-2")
        #expect(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.first?.matchExpressions?.first
                == NodeSelectorRequirement(key: "zone", operator: "In", values: ["a", "b"]))
        #expect(pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.first?.weight == 10)
        // tolerationSeconds is a pointer: 0 means "evict at once", not "unset".
        #expect(pod.spec.tolerations == [Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0)])
        #expect(pod.spec.schedulerName == "default-scheduler")
        #expect(pod.spec.priority == 1000)
        #expect(pod.spec.hostNetwork == nil)
        #expect(pod.status == PodStatus())
    }

    @Test func deploymentStrategyIntOrString() throws {
        let strategy = PB.message(4, PB.string(1, "RollingUpdate"), PB.message(2,
            PB.message(1, PB.int(1, 1), PB.string(3, "25%")),   // maxUnavailable: "25%"
            PB.message(2, PB.int(1, 0), PB.int(2, 0))))          // maxSurge: 0 (set, so kept)
        let spec = PB.cat(PB.message(2, PB.entry(1, "app", "web")),
                          PB.message(3, PB.message(1, PB.entry(11, "app", "web")), PB.message(2, PB.message(2, PB.string(1, "c"), PB.string(2, "nginx")))),
                          strategy, PB.int(5, 5), PB.int(6, 0), PB.bool(7, true))
        let json = try KubeProtobuf.decode(PB.envelope("apps/v1", "Deployment", PB.cat(PB.message(1, PB.string(1, "web")), PB.message(2, spec))))
        let d = try #require(try ResourceKind.deployment.decode(json) as? Deployment)
        #expect(d.spec.replicas == nil)
        #expect(d.spec.strategy == DeploymentStrategy(type: "RollingUpdate", rollingUpdate: RollingUpdateDeployment(maxUnavailable: .string("25%"), maxSurge: .int(0))))
        #expect(d.spec.minReadySeconds == 5)
        #expect(d.spec.revisionHistoryLimit == 0)
        #expect(d.spec.paused == true)
    }

    @Test func otherServedKinds() throws {
        // A ReplicaSet's status.replicas has no omitempty: 0 is kept.
        let rs = try KubeProtobuf.decode(PB.envelope("apps/v1", "ReplicaSet", PB.cat(
            PB.message(1, PB.string(1, "web-1")),
            PB.message(2, PB.int(1, 3), PB.message(2, PB.entry(1, "app", "web"))),
            PB.message(3, PB.int(1, 0)))))
        #expect(rs["status"] == ["replicas": 0])
        #expect((try ResourceKind.replicaSet.decode(rs) as? ReplicaSet)?.spec.replicas == 3)

        let node = try KubeProtobuf.decode(PB.envelope("v1", "Node", PB.cat(
            PB.message(1, PB.string(1, "node-9")),
            PB.message(2, PB.bool(4, true), PB.message(5, PB.string(1, "dedicated"), PB.string(2, "gpu"), PB.string(3, "NoSchedule"))),
            PB.message(3, PB.entry(1, "cpu", quantity: "4"), PB.entry(2, "pods", quantity: "110"),
                       PB.message(4, PB.string(1, "Ready"), PB.string(2, "True"), PB.message(3, PB.int(1, 60), PB.int(2, 999_999_999)))))))
        let n = try #require(try ResourceKind.node.decode(node) as? Node)
        #expect(n.spec == NodeSpec(unschedulable: true, taints: [Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")]))
        #expect(n.status?.capacity?["cpu"] == Quantity(4))
        #expect(n.condition("Ready")?.lastHeartbeatTime == "1970-01-01T00:01:00Z")

        let event = try KubeProtobuf.decode(PB.envelope("v1", "Event", PB.cat(
            PB.message(1, PB.string(1, "web.1"), PB.string(3, "default")),
            PB.message(2, PB.string(1, "Pod"), PB.string(3, "web")),
            PB.string(3, "Scheduled"), PB.string(4, "assigned"), PB.int(8, 2),
            PB.message(10, PB.int(1, 60), PB.int(2, 123_456_789)))))
        let e = try #require(try ResourceKind.event.decode(event) as? CoreEvent)
        #expect(e.eventTime == "1970-01-01T00:01:00.123456Z")
        #expect(e.count == 2 && e.involvedObject.name == "web")

        let endpoints = try KubeProtobuf.decode(PB.envelope("v1", "Endpoints", PB.cat(
            PB.message(1, PB.string(1, "web")),
            PB.message(2, PB.message(1, PB.string(1, "10.244.1.2"), PB.string(4, "node-1"), PB.message(2, PB.string(1, "Pod"), PB.string(3, "web-x"))),
                       PB.message(3, PB.int(2, 80), PB.string(3, "TCP"))))))
        let ep = try #require(try ResourceKind.endpoints.decode(endpoints) as? Endpoints)
        #expect(ep.subsets?.first?.addresses?.first?.targetRef?.name == "web-x")
        #expect(ep.subsets?.first?.ports == [EndpointPort(port: 80, protocol: "TCP")])
    }

    @Test func subresourceBodies() throws {
        let scale = try KubeProtobuf.decode(PB.envelope("autoscaling/v1", "Scale", PB.cat(
            PB.message(1, PB.string(1, "web"), PB.string(3, "default")), PB.message(2, PB.int(1, 0)), PB.message(3))))
        #expect(scale["spec"]?["replicas"] == .int(0))
        let binding = try KubeProtobuf.decode(PB.envelope("v1", "Binding", PB.cat(
            PB.message(1, PB.string(1, "web-x")), PB.message(2, PB.string(1, "Node"), PB.string(3, "node-2")))))
        #expect(binding["target"]?["name"] == "node-2")
        let delete = try KubeProtobuf.decode(PB.envelope("meta.k8s.io/v1", "DeleteOptions", PB.cat(
            PB.int(1, 0), PB.message(2, PB.string(1, "uid-1")), PB.string(4, "Foreground"), PB.string(5, "All"))))
        #expect(delete == (try ProtobufFixtureTests.json("""
            {"apiVersion":"meta.k8s.io/v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"uid-1"},
             "propagationPolicy":"Foreground","dryRun":["All"]}
            """)))
    }

    /// The kinds kubectl sends as protobuf: those of the core, apps and scheduling groups it
    /// writes, and what `kubectl create configmap|secret|serviceaccount|job|cronjob` makes.
    static let protobufKinds: [ResourceKind] = [
        .namespace, .node, .pod, .service, .endpoints, .event, .replicaSet, .deployment, .priorityClass,
        .configMap, .secret, .serviceAccount, .job, .cronJob, .podDisruptionBudget, .resourceQuota,
    ]

    /// Every field of every table, set to a sample value, decodes into kj's model strictly: the
    /// tables' member names and types are the model's.
    @Test(arguments: protobufKinds)
    func everyTableFieldIsKnownToTheModel(kind: ResourceKind) throws {
        let message = try #require(KubeMessages.message(apiVersion: kind.apiVersion, kind: kind.kind))
        let json = try KubeProtobuf.decode(PB.envelope(kind.apiVersion, kind.kind, PB.sample(message)))
        _ = try kind.decode(json, strict: true)
    }
}

@Suite struct ProtobufErrorTests {
    func status(_ body: [UInt8], contentType: String = "application/vnd.kubernetes.protobuf") -> StatusError? {
        do {
            _ = try KubeAPI.body(APIRequest(method: "POST", path: "/api/v1/namespaces", headers: ["content-type": contentType], body: body))
            return nil
        } catch {
            return error
        }
    }

    @Test func malformedBytesNameTheOffset() throws {
        let good = try ProtobufFixtureTests.fixture("namespace-prod.pb")
        // Cut inside the object: the length of `raw` runs past the end.
        let cut = status(Array(good.prefix(40)))
        #expect(cut?.status.code == 400)
        #expect(cut?.message.contains("error decoding protobuf: at byte 22: length 28 runs past the end") == true)
        // A metadata field with the wrong wire type.
        let wrong = status(PB.envelope("v1", "Namespace", PB.message(1, PB.int(1, 5))))
        #expect(wrong?.status.code == 400)
        #expect(wrong?.message.contains("ObjectMeta.name (field 1) is varint, expected length-delimited") == true)
        // No magic.
        #expect(status(Array("{\"kind\":\"Namespace\"}".utf8))?.message.contains("at byte 0: the body does not start with the Kubernetes protobuf prefix") == true)
        // A varint that never ends.
        #expect(status(KubeProtobuf.magic + [0x0A, 0xFF, 0xFF])?.message.contains("at byte 5: truncated varint") == true)
        // A string that is not UTF-8.
        #expect(status(PB.envelope("v1", "Namespace", PB.message(1, [0x0A, 0x02, 0xC3, 0x28])))?.message.contains("not UTF-8") == true)
    }

    @Test func unknownKindsAreBadRequests() {
        let e = status(PB.envelope("apps/v1", "StatefulSet", PB.message(1, PB.string(1, "db"))))
        #expect(e?.status.code == 400)
        #expect(e?.message == "error decoding protobuf: at byte 4: the body holds apps/v1 StatefulSet, which this server does not decode from protobuf")
    }

    @Test func otherProtobufTypesAreUnsupported() {
        #expect(status([1, 2, 3], contentType: "application/x-protobuf")?.status.code == 415)
    }

    @Test func everyTableIsWellFormed() {
        // Building the tables traps on a duplicate field number; walking them checks each field's shape.
        var seen: Set<String> = []
        func walk(_ m: ProtoMessage) {
            guard seen.insert(m.name + "\(m.fields.keys.sorted())").inserted else { return }
            for (number, field) in m.fields {
                #expect(number >= 1 && !field.name.isEmpty, "\(m.name) field \(number)")
                switch field.value {
                case .message(let inner), .inline(let inner): walk(inner)
                default: #expect(!field.repeated || field.value.isVarint == false, "\(m.name).\(field.name): repeated scalars are not decoded")
                }
            }
        }
        for m in KubeMessages.kinds.values { walk(m) }
        walk(KubeMessages.deleteOptions)
        #expect(seen.count > 40)
    }
}

/// Writes protobuf bytes for the hand-made messages above.
enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    static func key(_ number: Int, _ wireType: UInt64) -> [UInt8] { varint(UInt64(number) << 3 | wireType) }
    static func cat(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
    static func int(_ number: Int, _ v: Int64) -> [UInt8] { key(number, 0) + varint(UInt64(bitPattern: v)) }
    static func bool(_ number: Int, _ b: Bool) -> [UInt8] { int(number, b ? 1 : 0) }
    static func bytes(_ number: Int, _ b: [UInt8]) -> [UInt8] { key(number, 2) + varint(UInt64(b.count)) + b }
    static func string(_ number: Int, _ s: String) -> [UInt8] { bytes(number, Array(s.utf8)) }
    static func message(_ number: Int, _ parts: [UInt8]...) -> [UInt8] { bytes(number, parts.flatMap { $0 }) }
    static func fixed32(_ number: Int) -> [UInt8] { key(number, 5) + [1, 2, 3, 4] }
    static func fixed64(_ number: Int) -> [UInt8] { key(number, 1) + [1, 2, 3, 4, 5, 6, 7, 8] }
    /// A map<string, string> entry.
    static func entry(_ number: Int, _ k: String, _ v: String) -> [UInt8] { message(number, string(1, k), string(2, v)) }
    /// A map<string, Quantity> entry.
    static func entry(_ number: Int, _ k: String, quantity: String) -> [UInt8] { message(number, string(1, k), message(2, string(1, quantity))) }

    /// `k8s\0` and a runtime.Unknown around `raw`, as client-go writes it.
    static func envelope(_ apiVersion: String, _ kind: String, _ raw: [UInt8]) -> [UInt8] {
        KubeProtobuf.magic + message(1, string(1, apiVersion), string(2, kind)) + bytes(2, raw) + string(3, "") + string(4, "")
    }

    /// A message with every field of `m` set to a sample value.
    static func sample(_ m: ProtoMessage) -> [UInt8] {
        m.fields.sorted { $0.key < $1.key }.flatMap { number, field -> [UInt8] in
            switch field.value {
            case .string: string(number, "x")
            case .int32, .int64: int(number, 1)
            case .bool: bool(number, true)
            case .time, .microTime: message(number, int(1, 1_795_000_000))
            case .quantity: message(number, string(1, "1"))
            case .intOrString: message(number, int(1, 0), int(2, 1))
            case .stringMap: entry(number, "k", "v")
            case .quantityMap: entry(number, "cpu", quantity: "1")
            case .bytes: bytes(number, [0, 1, 255])
            case .bytesMap: message(number, string(1, "k"), bytes(2, [0, 1, 255]))
            case .message(let inner), .inline(let inner): message(number, sample(inner))
            }
        }
    }
}
