import ClusterModel
import Testing

/// Field ownership and server-side apply (`FieldManager`), checked against what kube-apiserver
/// records and answers for the same writes.
@Suite struct ManagedFieldsTests {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "web", "namespace": "default", "labels": ["app": "web"]],
        "spec": [
            "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
            "template": [
                "metadata": ["labels": ["app": "web"]],
                "spec": ["containers": [["name": "web", "image": "nginx:1.27", "ports": [["containerPort": 80, "protocol": "TCP"]]]]],
            ],
        ],
    ]

    static func entry(_ entries: [ManagedFieldsEntry], _ manager: String) -> ManagedFieldsEntry? {
        entries.first { $0.manager == manager }
    }

    @Test func fieldsV1ReadsAndWritesTheDotForPathsThatAreAlsoParents() throws {
        let document = try JSONValue.parse(#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}},"f:replicas":{}}}"#)
        let set = try #require(FieldSet(fieldsV1: document))
        #expect(set.fieldsV1 == document)
        #expect(set.contains(["f:metadata", "f:labels"]) && set.contains(["f:metadata", "f:labels", "f:app"]))
        #expect(!set.contains(["f:metadata"]))
        #expect(set.paths.map(FieldSet.describe).contains(#".spec.containers[name="web"].image"#))
        #expect(FieldSet(fieldsV1: ["f:spec": "x"]) == nil)
    }

    @Test func theSchemaMarksKeyedListsSetsAndAtomicStructs() {
        var schemas = OpenAPISchemas(referencePrefix: "#/components/schemas/")
        schemas.add(.deployment)
        let podSpec = schemas.components["io.k8s.api.PodSpec"]?["properties"]
        #expect(podSpec?["containers"]?["x-kubernetes-list-type"] == "map")
        #expect(podSpec?["containers"]?["x-kubernetes-list-map-keys"] == ["name"])
        #expect(podSpec?["tolerations"]?["x-kubernetes-list-type"] == "atomic")
        #expect(schemas.components["io.k8s.api.Container"]?["properties"]?["ports"]?["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"])
        #expect(schemas.components["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?["properties"]?["finalizers"]?["x-kubernetes-list-type"] == "set")
        #expect(schemas.components["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]?["x-kubernetes-map-type"] == "atomic")
    }

    @Test func anUpdateTakesWhatItChangesFromTheOtherManagers() throws {
        let created = FieldManager.update(.deployment, old: nil, new: Self.deployment, entries: [], manager: "kubectl-create", subresource: nil, time: "t1")
        let creator = try #require(Self.entry(created, "kubectl-create"))
        #expect(creator.operation == "Update" && creator.apiVersion == "apps/v1" && creator.time == "t1")
        #expect(creator.fields.contains(["f:spec", "f:replicas"]) && creator.fields.contains(["f:spec", "f:selector"]))
        #expect(creator.fields.contains(["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"web"}"#, "f:ports", #"k:{"containerPort":80,"protocol":"TCP"}"#]))
        #expect(!creator.fields.contains(["f:metadata", "f:name"]), "server-set metadata is nobody's")

        var scaled = Self.deployment
        scaled["spec"]?["replicas"] = 4
        let after = FieldManager.update(.deployment, old: Self.deployment, new: scaled, entries: created, manager: "kubectl-scale", subresource: nil, time: "t2")
        #expect(Self.entry(after, "kubectl-scale")?.fields.paths == [["f:spec", "f:replicas"]])
        #expect(Self.entry(after, "kubectl-create")?.fields.contains(["f:spec", "f:replicas"]) == false)
        #expect(Self.entry(after, "kubectl-create")?.time == "t1", "an entry whose fields did not grow keeps its time")

        // A status write owns only status; the rest of the object is out of its scope.
        var status = scaled
        status["status"] = ["replicas": 4]
        let statusEntries = FieldManager.update(.deployment, old: scaled, new: status, entries: after, manager: "kube-controller-manager", subresource: "status", time: "t3")
        #expect(Self.entry(statusEntries, "kube-controller-manager")?.subresource == "status")
        #expect(Self.entry(statusEntries, "kube-controller-manager")?.fields.contains(["f:status", "f:replicas"]) == true)
    }

    @Test func anApplyConflictsWithAnotherManagersFieldUnlessForcedOrTheValueIsTheSame() throws {
        let created = FieldManager.update(.deployment, old: nil, new: Self.deployment, entries: [], manager: "kubectl-client-side-apply", subresource: nil, time: "t1")
        // The same values: no conflict, the field is shared.
        let same = try FieldManager.apply(.deployment, live: Self.deployment, config: Self.deployment, entries: created, manager: "ci", force: false, time: "t2")
        #expect(Self.entry(same.entries, "ci")?.fields.contains(["f:spec", "f:replicas"]) == true)
        #expect(Self.entry(same.entries, "kubectl-client-side-apply")?.fields.contains(["f:spec", "f:replicas"]) == true)

        var five = Self.deployment
        five["spec"]?["replicas"] = 5
        let conflict = #expect(throws: FieldManager.Conflicts.self) {
            try FieldManager.apply(.deployment, live: Self.deployment, config: five, entries: created, manager: "ci", force: false, time: "t2")
        }
        #expect(conflict?.description == #"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#)
        #expect(conflict?.conflicts.first?.field == ".spec.replicas")

        let forced = try FieldManager.apply(.deployment, live: Self.deployment, config: five, entries: created, manager: "ci", force: true, time: "t2")
        #expect(forced.object["spec"]?["replicas"] == 5)
        #expect(Self.entry(forced.entries, "kubectl-client-side-apply")?.fields.contains(["f:spec", "f:replicas"]) == false)
        #expect(Self.entry(forced.entries, "ci")?.operation == "Apply")
    }

    @Test func fieldsAnApplierStopsApplyingGoUnlessSomeoneElseOwnsThem() throws {
        let config: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "labels": ["tier": "web"]], "data": ["a": "1", "b": "2"]]
        let first = try FieldManager.apply(.configMap, live: nil, config: config, entries: [], manager: "kubectl", force: false, time: "t1")
        #expect(first.object["data"] == ["a": "1", "b": "2"])
        var labelled = first.object
        labelled["metadata"]?["labels"]?["owner"] = "me"
        let entries = FieldManager.update(.configMap, old: first.object, new: labelled, entries: first.entries, manager: "kubectl-label", subresource: nil, time: "t2")

        let smaller: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["b": "3"]]
        let second = try FieldManager.apply(.configMap, live: labelled, config: smaller, entries: entries, manager: "kubectl", force: false, time: "t3")
        #expect(second.object["data"] == ["b": "3"])
        #expect(second.object["metadata"]?["labels"] == ["owner": "me"], "the label another manager owns stays; the applier's goes")
        #expect(Self.entry(second.entries, "kubectl")?.fields.paths == [["f:data", "f:b"]])
    }

    @Test func aConfigurationOutsideTheSchemaIsRefusedWithThePathOfTheField() {
        let config: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "datta": ["a": "1"]]
        #expect(throws: TypedSchema.TypeError.self) {
            try FieldManager.apply(.configMap, live: nil, config: config, entries: [], manager: "kubectl", force: false, time: "t1")
        }
        do {
            _ = try FieldManager.apply(.configMap, live: nil, config: config, entries: [], manager: "kubectl", force: false, time: "t1")
        } catch {
            #expect("\(error)" == ".datta: field not declared in schema")
        }
    }
}
