import ClusterModel
import Foundation
import Testing

@Suite struct QuantityTests {
    @Test(arguments: [
        ("500m", Int64(500), "500m"), ("2", 2000, "2"), ("0.5", 500, "500m"), ("1.5", 1500, "1500m"),
        ("128Mi", 134_217_728_000, "128Mi"), ("1Gi", 1_073_741_824_000, "1Gi"), ("1G", 1_000_000_000_000, "1G"),
        ("100k", 100_000_000, "100k"), ("1e3", 1_000_000, "1k"), ("1024Ki", 1_048_576_000, "1Mi"),
        ("1536Mi", 1_610_612_736_000, "1536Mi"), ("0", 0, "0"), ("-1", -1000, "-1"), ("250m", 250, "250m"),
        ("1000m", 1000, "1"), ("0.1", 100, "100m"), ("2000M", 2_000_000_000_000, "2G"), ("1.5Gi", 1_610_612_736_000, "1536Mi"),
    ])
    func parsesExactlyAndPrintsCanonically(text: String, milli: Int64, canonical: String) throws {
        let q = try Quantity(parsing: text)
        #expect(q.milli == milli)
        #expect(q.description == canonical)
        #expect(try Quantity(parsing: q.description) == q)
    }

    @Test(arguments: ["", "abc", "1.2.3", "5Zi", "--1", "1e"])
    func refusesNonsense(text: String) {
        #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: text) }
    }

    /// apimachinery caps quantities at 2⁶³ − 1 units; anything larger is accepted and held as the
    /// cap, never a trap or a wrapped value.
    @Test(arguments: [
        ("9223372036854775807", "9223372036854775807"), ("1e308", "9223372036854775807"), ("8Ei", "9223372036854775807"),
        ("123456789012345678901234567890", "9223372036854775807"), ("1e2147483647", "9223372036854775807"),
        ("-1e308", "-9223372036854775807"), ("1Ei", "1Ei"), ("7Ei", "7Ei"), ("9223372036854775", "9223372036854775"),
        ("0.000000000000000000001", "1m"), ("1e-400", "1m"), ("1n", "1m"), ("92233720368547758.08", "92233720368547758080m"),
        ("0.1234567890123456789012345678901234567890", "124m"), ("000000000000000000000000000001", "1"),
    ])
    func capsLikeKubernetesAndNeverTraps(text: String, canonical: String) throws {
        let q = try Quantity(parsing: text)
        #expect(q.description == canonical)
        #expect(abs(q.milli) <= Quantity.maxMilli)
        #expect(q.value == Int64((q.milli + (q.milli > 0 ? 999 : 0)) / 1000))
    }

    @Test func sumsSaturateAtTheCap() throws {
        let max = try Quantity(parsing: "9223372036854775807")
        #expect((max + max) == max)
        #expect((Quantity.zero - max - max).milli == -Quantity.maxMilli)
        #expect(max.value == Int64.max)
        #expect(max.milliSaturated == Int64.max)
        #expect(try Quantity(parsing: "5000000000000000").milliSaturated == 5_000_000_000_000_000_000)
    }

    /// apimachinery reads a bare JSON number as the quantity's text.
    @Test func decodesJSONNumbers() throws {
        func decode(_ json: String) throws -> Quantity {
            try ValueDecoder().decode([String: Quantity].self, from: try JSONValue.parse(json))["cpu"]!
        }
        #expect(try decode(#"{"cpu": 9223372036854775807}"#).description == "9223372036854775807")
        #expect(try decode(#"{"cpu": 1e308}"#).description == "9223372036854775807")
        #expect(try decode(#"{"cpu": 0.25}"#).description == "250m")
        #expect(try decode(#"{"cpu": 2}"#).description == "2")
        #expect(try decode(#"{"cpu": -1.5e-7}"#).description == "-1m")
    }

    @Test func sumsWithoutDrift() throws {
        var total = Quantity.zero
        for _ in 0..<1000 { total = total + (try Quantity(parsing: "0.1")) }
        #expect(total == (try Quantity(parsing: "100")))
        #expect((try Quantity(parsing: "1Gi")).value == 1_073_741_824)
    }
}

@Suite struct JSONValueTests {
    @Test func parsesAndSerializesCanonically() throws {
        let v = try JSONValue.parse(#"{"b":[1,2.5,true,null],"a":"x\n\u00e9","c":{"z":1,"y":-2}}"#)
        #expect(v.jsonString == #"{"a":"x\né","b":[1,2.5,true,null],"c":{"y":-2,"z":1}}"#)
        #expect(try JSONValue.parse(v.jsonString) == v)
        #expect(v["c"]?["y"]?.intValue == -2)
    }

    @Test func reportsWhereSyntaxIsWrong() {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse("{\n  \"a\": [1,\n  2,,\n]}") }
        #expect(error?.line == 3)
        #expect(error?.description.contains("line 3, column 5") == true)
    }
}

@Suite struct ManifestTests {
    @Test func readsMultiDocumentYAMLAndJSONLists() throws {
        let yaml = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: team-a}
            ---
            # a comment-only document is skipped
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: team-a}
            spec:
              selector: {app: web}
              ports: [{port: 80, targetPort: http}]
            """
        let objects = try Manifest.objects(yaml)
        #expect(objects.count == 2)
        #expect((objects[1] as? Service)?.spec?.ports?.first?.targetPort == .string("http"))
        let list = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}]}"#
        #expect(try Manifest.objects(list).first is Node)
    }

    @Test func unknownFieldsAreRefusedWithTheirPath() {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - name: c
                image: nginx
                imagee: typo
            """
        let error = #expect(throws: Manifest.ReadError.self) { try Manifest.objects(yaml) }
        #expect(error?.description == "Pod \"p\" in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagee\" (document 1)")
        #expect((try? Manifest.objects(yaml, strict: false))?.count == 1)
    }

    @Test func typeErrorsAndUnknownKindsAreReadable() {
        #expect(throws: Manifest.ReadError.self) { try Manifest.objects("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: eighty}]}]}") }
        let unknown = #expect(throws: Manifest.ReadError.self) { try Manifest.objects("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}") }
        #expect(unknown?.description == "no matches for kind \"Widget\" in version \"example.com/v1\" (document 1)")
        let broken = #expect(throws: Manifest.ReadError.self) { try Manifest.objects("apiVersion: v1\nkind: Pod\n  metadata: [") }
        #expect(broken?.description.hasPrefix("invalid YAML:") == true)
    }
}

/// Equivalents of the Kubernetes documentation's example manifests for every kind.
enum Examples {
    static let all: [String] = [
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: development
          labels: {name: development}
        """,
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: nginx
          labels: {app: nginx}
          annotations: {description: "the docs' first pod"}
        spec:
          containers:
          - name: nginx
            image: nginx:1.14.2
            ports:
            - containerPort: 80
            resources:
              requests: {cpu: 250m, memory: 64Mi}
              limits: {cpu: 500m, memory: 128Mi}
            lifecycle:
              preStop:
                exec: {command: ["/bin/sh", "-c", "nginx -s quit; while killall -0 nginx; do sleep 1; done"]}
          terminationGracePeriodSeconds: 60
          nodeSelector: {disktype: ssd}
          tolerations:
          - {key: example-key, operator: Exists, effect: NoSchedule}
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                - matchExpressions:
                  - {key: topology.kubernetes.io/zone, operator: In, values: [antarctica-east1, antarctica-west1]}
              preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 1
                preference:
                  matchExpressions:
                  - {key: another-node-label-key, operator: In, values: [another-node-label-value]}
        """,
        """
        apiVersion: v1
        kind: Node
        metadata:
          name: node-1
          labels: {kubernetes.io/hostname: node-1, disktype: ssd}
        spec:
          taints:
          - {key: dedicated, value: gpu, effect: NoSchedule}
        status:
          capacity: {cpu: "4", memory: 16Gi, pods: "110"}
          allocatable: {cpu: 3900m, memory: 15Gi, pods: "110"}
          conditions:
          - {type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}
          addresses:
          - {type: InternalIP, address: 10.0.0.1}
          images:
          - names: [nginx:1.14.2]
            sizeBytes: 44710204
        """,
        """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: frontend
          labels: {app: guestbook, tier: frontend}
        spec:
          replicas: 3
          selector:
            matchLabels: {tier: frontend}
          template:
            metadata:
              labels: {tier: frontend}
            spec:
              containers:
              - name: php-redis
                image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
        """,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: nginx-deployment
          labels: {app: nginx}
        spec:
          replicas: 3
          selector:
            matchLabels: {app: nginx}
          strategy:
            type: RollingUpdate
            rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
          template:
            metadata:
              labels: {app: nginx}
            spec:
              containers:
              - name: nginx
                image: nginx:1.14.2
                ports:
                - containerPort: 80
        """,
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: my-service
        spec:
          selector: {app.kubernetes.io/name: MyApp}
          ports:
          - {name: http, protocol: TCP, port: 80, targetPort: 9376}
          - {name: https, protocol: TCP, port: 443, targetPort: 9377}
        """,
        """
        apiVersion: v1
        kind: Endpoints
        metadata:
          name: my-service
        subsets:
        - addresses:
          - {ip: 192.0.2.42, nodeName: node-1, targetRef: {kind: Pod, name: web-0, namespace: default}}
          ports:
          - {port: 9376, name: http}
        """,
        """
        apiVersion: v1
        kind: Event
        metadata:
          name: nginx.17a9c2b6a0b2c3d4
          namespace: default
        involvedObject: {kind: Pod, name: nginx, namespace: default, apiVersion: v1}
        reason: Scheduled
        message: Successfully assigned default/nginx to node-1
        source: {component: default-scheduler}
        type: Normal
        count: 1
        """,
    ]
}

@Suite struct RoundTripTests {
    @Test(arguments: Examples.all)
    func decodesValidatesEncodesAndDecodesToTheSameValue(yaml: String) throws {
        let objects = try Manifest.objects(yaml)
        #expect(objects.count == 1)
        let object = objects[0]
        #expect(Validation.validate(object) == [], "\(Validation.validate(object))")
        let encoded = try ValueEncoder().encode(object)
        let again = try ResourceKind(of: type(of: object)).decode(try JSONValue.parse(encoded.serialized()))
        #expect(try ValueEncoder().encode(again) == encoded)
        // Defaulting is idempotent and keeps the object valid.
        func defaulted<R: Resource>(_ r: R) -> any Resource { Defaults.apply(Defaults.apply(r)) }
        let d = defaulted(object)
        #expect(Validation.validate(d) == [])
        #expect(try ValueEncoder().encode(d) == (try ValueEncoder().encode(Defaults.apply(d))))
        // YAML output reads back as the same object.
        #expect(try ValueEncoder().encode(try Manifest.objects(encoded.yaml())[0]) == encoded)
    }

    @Test func defaultsAreKubernetes() throws {
        let pod = Defaults.apply(try Manifest.objects(Examples.all[1])[0] as! Pod)
        #expect(pod.spec.restartPolicy == "Always")
        #expect(pod.spec.terminationGracePeriodSeconds == 60)
        #expect(pod.spec.containers[0].imagePullPolicy == "IfNotPresent")
        #expect(pod.spec.tolerations?.contains { $0.key == "node.kubernetes.io/unreachable" && $0.tolerationSeconds == 300 } == true)
        let d = Defaults.apply(try Manifest.objects(Examples.all[4])[0] as! Deployment)
        #expect(d.spec.revisionHistoryLimit == 10)
        #expect(d.spec.template.spec.terminationGracePeriodSeconds == 30)
        let latest = Defaults.apply(Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: [Container(name: "c", image: "nginx")])))
        #expect(latest.spec.containers[0].imagePullPolicy == "Always")
    }
}

@Suite struct SelectorTests {
    @Test func parsesEveryOperator() throws {
        let s = try LabelSelectorExpression(parsing: "a=b,c!=d, e in (x, y),!f,g notin (z),h,i==j")
        #expect(s.requirements.map(\.op) == [.equals, .notEquals, .in, .doesNotExist, .notIn, .exists, .equals])
        #expect(s.matches(["a": "b", "e": "y", "h": "", "i": "j", "c": "q"]))
        #expect(!s.matches(["a": "b", "e": "y", "h": "", "i": "j", "f": "1"]))
        #expect(!s.matches(["a": "b", "e": "w", "h": "", "i": "j"]))
        #expect(!s.matches(["a": "b", "e": "y", "h": "", "i": "j", "g": "z"]))
        #expect(try LabelSelectorExpression(parsing: "").matches([:]))
    }

    @Test(arguments: ["a=b,", "a in x", "a=(", "=b", "a b"])
    func refusesMalformedSelectors(text: String) {
        #expect(throws: LabelSelectorExpression.ParseError.self) { try LabelSelectorExpression(parsing: text) }
    }

    @Test func fieldSelectorsKnowTheirFields() throws {
        let f = try FieldSelectorExpression(parsing: "spec.nodeName=node-1,status.phase!=Failed", kind: .pod)
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: [Container(name: "c", image: "x")]))
        pod.spec.nodeName = "node-1"
        pod.status = PodStatus(phase: "Running")
        #expect(f.matches(pod.fieldValue))
        pod.status?.phase = "Failed"
        #expect(!f.matches(pod.fieldValue))
        let error = #expect(throws: FieldSelectorExpression.ParseError.self) { try FieldSelectorExpression(parsing: "spec.foo=x", kind: .pod) }
        #expect(error?.description == "field label not supported: spec.foo")
    }
}

@Suite struct PatchTests {
    let pod = try! JSONValue.parse("""
        {"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["x"]},
         "spec":{"containers":[{"name":"app","image":"app:1","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]},
                               {"name":"side","image":"side:1"}],
                 "tolerations":[{"key":"k1","operator":"Exists"},{"key":"k2","operator":"Exists"}]}}
        """)

    @Test func mergePatchFollowsRFC7386() throws {
        let out = Patch.mergePatch(pod, try JSONValue.parse(#"{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"tolerations":[]}}"#))
        #expect(out["metadata"]?["labels"] == .object(["b": .string("2"), "c": .string("3")]))
        #expect(out["spec"]?["tolerations"] == .array([]))
        #expect(out["spec"]?["containers"]?.arrayValue?.count == 2)
    }

    @Test func strategicMergeMergesListsByTheirKeys() throws {
        let patch = try JSONValue.parse("""
            {"spec":{"containers":[{"name":"app","image":"app:2","ports":[{"containerPort":8080}]},{"name":"side","$patch":"delete"},{"name":"new","image":"n:1"}],
                     "tolerations":[{"key":"k2","effect":"NoSchedule"}]},
             "metadata":{"finalizers":["y"]}}
            """)
        let out = try Patch.strategicMerge(pod, patch)
        let containers = out["spec"]?["containers"]?.arrayValue ?? []
        #expect(containers.map { $0["name"]?.stringValue } == ["app", "new"])
        #expect(containers[0]["image"]?.stringValue == "app:2")
        #expect(containers[0]["ports"]?.arrayValue?.map { $0["containerPort"]?.intValue } == [80, 443, 8080])
        #expect(out["spec"]?["tolerations"]?.arrayValue?[1]["effect"]?.stringValue == "NoSchedule")
        #expect(out["metadata"]?["finalizers"] == .array([.string("x"), .string("y")]))
    }

    @Test func strategicMergeHonoursKubectlsDirectives() throws {
        let patch = try JSONValue.parse("""
            {"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"app"}],"containers":[{"name":"app","image":"app:3"}]},
             "metadata":{"$retainKeys":["name","labels"],"labels":{"$patch":"replace","only":"this"}}}
            """)
        let out = try Patch.strategicMerge(pod, patch)
        #expect(out["spec"]?["containers"]?.arrayValue?.map { $0["name"]?.stringValue } == ["side", "app"])
        #expect(out["metadata"]?["labels"] == .object(["only": .string("this")]))
        #expect(out["metadata"]?["finalizers"] == nil)
    }

    @Test func jsonPatchAppliesEveryOperation() throws {
        let ops = try JSONValue.parse("""
            [{"op":"replace","path":"/spec/containers/0/image","value":"app:9"},
             {"op":"add","path":"/metadata/labels/c","value":"3"},
             {"op":"remove","path":"/metadata/labels/a"},
             {"op":"copy","from":"/metadata/labels/b","path":"/metadata/labels/d"},
             {"op":"move","from":"/spec/tolerations/1","path":"/spec/tolerations/0"},
             {"op":"add","path":"/spec/containers/-","value":{"name":"z","image":"z"}},
             {"op":"test","path":"/metadata/name","value":"p"}]
            """)
        let out = try Patch.jsonPatch(pod, ops)
        #expect(out["spec"]?["containers"]?.arrayValue?[0]["image"]?.stringValue == "app:9")
        #expect(out["spec"]?["containers"]?.arrayValue?.last?["name"]?.stringValue == "z")
        #expect(out["metadata"]?["labels"] == .object(["b": .string("2"), "c": .string("3"), "d": .string("2")]))
        #expect(out["spec"]?["tolerations"]?.arrayValue?.first?["key"]?.stringValue == "k2")
        #expect(throws: Patch.Failure.self) { try Patch.jsonPatch(pod, try JSONValue.parse(#"[{"op":"test","path":"/metadata/name","value":"q"}]"#)) }
        #expect(throws: Patch.Failure.self) { try Patch.jsonPatch(pod, try JSONValue.parse(#"[{"op":"remove","path":"/nope"}]"#)) }
    }
}

@Suite struct PrintingTests {
    static let ages: [(Int64, String)] = [
        (5, "5s"), (119, "119s"), (312, "5m12s"), (600, "10m"), (7200, "120m"), (10_860, "3h1m"),
        (108_000, "30h"), (262_800, "3d1h"), (34_560_000, "400d"), (94_608_000, "3y"),
    ]

    @Test(arguments: ages)
    func agesReadLikeKubectl(seconds: Int64, text: String) {
        #expect(ResourceTable.humanDuration(seconds: seconds) == text)
    }

    @Test func podStatusShowsWhatKubectlShows() {
        var pod = Pod(metadata: ObjectMeta(name: "p"), spec: PodSpec(containers: [Container(name: "c", image: "x")]))
        pod.status = PodStatus(phase: "Running")
        pod.status?.containerStatuses = [ContainerStatus(name: "c", image: "x", state: ContainerState(waiting: ContainerStateWaiting(reason: "CrashLoopBackOff")))]
        #expect(ResourceTable.podStatus(pod) == "CrashLoopBackOff")
        pod.metadata.deletionTimestamp = "2026-01-01T00:00:00Z"
        #expect(ResourceTable.podStatus(pod) == "Terminating")
    }
}

@Suite struct ValueEncoderTests {
    struct Widths: Encodable {
        var u8: UInt8 = 8, u16: UInt16 = 16, u32: UInt32 = 32, u64: UInt64 = 64, u: UInt = 1
        var i8: Int8 = -8, i16: Int16 = -16, f: Float = 0.5
        var optional: UInt32? = 7
        var list: [UInt32] = [1, 2]
    }

    @Test func encodesEveryIntegerWidthAsANumber() throws {
        let v = try ValueEncoder().encode(Widths())
        #expect(v.jsonString == #"{"f":0.5,"i16":-16,"i8":-8,"list":[1,2],"optional":7,"u":1,"u16":16,"u32":32,"u64":64,"u8":8}"#)
    }
}

/// Readers of stored bytes in place never trust them: damaged bytes give no answer, not a trap.
@Suite struct DamagedBytesTests {
    @Test(arguments: [#"{"metadata":{"name":""#, #"{"metadata":{"name":"abc\"#, #"{"metadata":{"name":"ab\""#, #"{"metadata":"#])
    func unterminatedStringsAreNotStrings(text: String) {
        let bytes = Array(text.utf8)
        let found = bytes.withUnsafeBytes { JSONFields.string(at: ["metadata", "name"], in: $0) }
        #expect(found == nil)
    }
}

/// Rows read in place from stored JSON (`kj get pods` over thousands of pods) must be the rows of
/// the decoded objects, whatever state the pod is in and however its JSON is laid out.
@Suite struct StoredRowsTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func pods() -> [Pod] {
        let created = "2026-09-21T10:00:00Z"
        var base = Pod(metadata: ObjectMeta(name: "web-1", namespace: "default"),
                       spec: PodSpec(containers: [Container(name: "a", image: "x"), Container(name: "b", image: "y")]))
        base.metadata.creationTimestamp = created
        var pending = base
        pending.status = PodStatus(phase: "Pending")
        var running = base
        running.spec.nodeName = "node-2"
        running.status = PodStatus(phase: "Running")
        running.status?.podIP = "10.0.2.7"
        running.status?.containerStatuses = [
            ContainerStatus(name: "a", image: "x", ready: true, restartCount: 0, state: ContainerState(running: ContainerStateRunning(startedAt: created))),
            ContainerStatus(name: "b", image: "y", ready: true, restartCount: 3, state: ContainerState(running: ContainerStateRunning(startedAt: created))),
        ]
        running.status?.containerStatuses?[1].lastState = ContainerState(terminated: ContainerStateTerminated(exitCode: 1, reason: "Error", finishedAt: "2026-09-21T10:20:00Z"))
        var crashing = running
        crashing.status?.containerStatuses?[0].ready = false
        crashing.status?.containerStatuses?[0].state = ContainerState(waiting: ContainerStateWaiting(reason: "CrashLoopBackOff", message: "back-off \"10s\""))
        var killed = running
        killed.status?.containerStatuses?[1].state = ContainerState(terminated: ContainerStateTerminated(exitCode: 137, reason: nil, signal: 9))
        var exited = running
        exited.status?.containerStatuses?[1].state = ContainerState(terminated: ContainerStateTerminated(exitCode: 2, reason: nil))
        var terminating = running
        terminating.metadata.deletionTimestamp = "2026-09-21T11:00:00Z"
        var lost = terminating
        lost.status?.reason = "NodeLost"
        var nominated = pending
        nominated.status?.nominatedNodeName = "node-3"
        nominated.spec.readinessGates = [["conditionType": "www.example.com/feature-1"]]
        nominated.metadata.labels = ["app": "web", "tier": "front"]
        return [pending, running, crashing, killed, exited, terminating, lost, nominated]
    }

    @Test func podRowsReadInPlaceAreTheDecodedPodsRows() throws {
        let definition = ResourceKind.pod.definition
        #expect(definition.readsRowsInPlace)
        for pod in Self.pods() {
            let typed = definition.cells(pod, now: Self.now)
            let value = try ValueEncoder().encode(pod)
            // Compact as the journal stores it, and pretty-printed with white space everywhere.
            for text in [value.serialized(), Array(value.prettyPrinted().utf8)] {
                let cells = text.withUnsafeBytes { bytes in JSONSlice(bytes).flatMap { definition.cells(stored: $0, now: Self.now) } }
                #expect(cells == typed, "\(String(decoding: text, as: UTF8.self))")
            }
        }
        // A kind without stored cells says so: its objects are decoded.
        #expect(!ResourceKind.configMap.definition.readsRowsInPlace)
        #expect(Array("{}".utf8).withUnsafeBytes { ResourceKind.configMap.definition.cells(stored: JSONSlice($0)!, now: Self.now) } == nil)
    }

    @Test func aSliceReadsMembersElementsAndScalarsInPlace() throws {
        let text = #"{"a": {"s": "x\"y\u00e9", "n": -42, "f": 1.5, "t": true, "z": null, "big": 99999999999999999999},"#
            + #" "list": [ {"k": "v1"}, [1, [2]], "s", {"k": "v2"} ], "empty": [], "labels": {"app": "web", "n": 1, "tier": "db"}}"#
        try Array(text.utf8).withUnsafeBytes { bytes in
            let json = try #require(JSONSlice(bytes))
            #expect(json["a"]?["s"]?.stringValue == "x\"yé")
            #expect(json[["a", "n"]]?.intValue == -42)
            #expect(json["a"]?["f"]?.intValue == nil && json["a"]?["big"]?.intValue == nil)
            #expect(json["a"]?["t"]?.boolValue == true && json["a"]?["z"]?.isNull == true && json["a"]?["missing"] == nil)
            #expect(json["list"]?.elements.map { $0["k"]?.stringValue } == ["v1", nil, nil, "v2"])
            #expect(json["empty"]?.elements.map { _ in 1 } == [] && json["a"]?.elements.map { _ in 1 } == [])
            #expect(json["labels"]?.stringMembers == ["app": "web", "tier": "db"])
            let found = json.members(["labels", "a", "missing", "list"])
            #expect(found[0]?["tier"]?.stringValue == "db" && found[1]?["n"]?.intValue == -42 && found[2] == nil)
            #expect(found[3]?.elements.map { _ in 1 }.count == 4)
        }
    }
}
