import ClusterModel
import Foundation
import Testing

/// The resource registry and what it derives: every kind described once, decodable, printable,
/// with OpenAPI schemas that follow the model, and secret values that kj never shows.
@Suite struct RegistryTests {
    @Test func everyKindIsDescribedOnceWithUniqueNames() {
        let kinds = ResourceKind.allCases
        #expect(kinds.count == ResourceRegistry.definitions.count)
        #expect(Set(kinds.map(\.plural)).count == kinds.count)
        let shortNames = kinds.flatMap(\.shortNames)
        #expect(Set(shortNames).count == shortNames.count)
        for kind in kinds {
            #expect(ResourceKind(resource: kind.plural) == kind)
            #expect(ResourceKind(apiVersion: kind.apiVersion, kind: kind.kind) == kind)
            #expect(kind.definition.columns.first?.name == "Name" || kind == .event, "\(kind)")
        }
        #expect(ResourceKind(resource: "cj") == .cronJob && ResourceKind(resource: "hpa") == .horizontalPodAutoscaler)
        #expect(ResourceRegistry.groupVersions.first == "v1" && ResourceRegistry.groupVersions.contains("autoscaling/v2"))
    }

    @Test func aManifestOfEachNewKindDecodesDefaultsAndPrints() throws {
        let text = """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: hello}
            spec:
              schedule: "*/5 * * * *"
              jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: db}
            stringData: {password: hunter2}
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: web}
            spec:
              serviceName: nginx
              selector: {matchLabels: {app: nginx}}
              template: {metadata: {labels: {app: nginx}}, spec: {containers: [{name: nginx, image: nginx}]}}
              volumeClaimTemplates: [{metadata: {name: www}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]
            """
        let objects = try Manifest.objects(text).map { Defaults.apply($0) }
        let cron = try #require(objects[0] as? CronJob)
        #expect(cron.spec.concurrencyPolicy == "Allow" && cron.spec.successfulJobsHistoryLimit == 3 && cron.spec.jobTemplate.spec.backoffLimit == 6)
        let secret = try #require(objects[1] as? Secret)
        #expect(secret.type == "Opaque" && secret.stringData == nil && secret.data == ["password": "aHVudGVyMg=="])
        let sts = try #require(objects[2] as? StatefulSet)
        #expect(sts.spec.replicas == 1 && sts.spec.podManagementPolicy == "OrderedReady" && sts.spec.updateStrategy?.rollingUpdate?.partition == 0)
        #expect(sts.spec.volumeClaimTemplates?.first?.spec?.volumeMode == "Filesystem")
        for o in objects { #expect(Validation.validate(o).isEmpty, "\(Validation.validate(o))") }
        let row = ResourceTable.make(.cronJob, [cron], now: Date()).rows[0]
        #expect(row[0] == "hello" && row[1] == "*/5 * * * *" && row[3] == "false")
    }

    @Test func kubernetesValidationOfTheNewKinds() throws {
        func errors(_ yaml: String) throws -> [String] {
            try Validation.validate(Defaults.apply(Manifest.objects(yaml)[0])).map(\.description)
        }
        #expect(try errors("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: c, image: b}]}}}")
            == ["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""])
        #expect(try errors("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1, maxUnavailable: 1}")
            == ["spec: Invalid value: {\"maxUnavailable\":1,\"minAvailable\":1}: minAvailable and maxUnavailable cannot be both set"])
        #expect(try errors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"a b\": x}").first?.contains("a valid config key") == true)
        #expect(try errors("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {}").contains("spec.accessModes: Required value: at least 1 access mode is required"))
        #expect(try errors("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: d}, minReplicas: 5, maxReplicas: 2}")
            == ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"])
    }

    @Test func openAPISchemasFollowTheModel() throws {
        var schemas = OpenAPISchemas(referencePrefix: "#/components/schemas/")
        let name = schemas.add(.pod)
        #expect(name == "io.k8s.api.core.v1.Pod")
        let pod = try #require(schemas.components[name])
        #expect(pod["x-kubernetes-group-version-kind"] == [["group": "", "version": "v1", "kind": "Pod"]])
        // A described reference is wrapped in allOf, as kube-apiserver writes it.
        #expect(pod["properties"]?["spec"]?["allOf"] == [["$ref": "#/components/schemas/io.k8s.api.PodSpec"]])
        #expect(pod["properties"]?["spec"]?["description"]?.stringValue?.isEmpty == false)
        #expect(pod["required"]?.arrayValue?.contains("metadata") != true)
        let spec = try #require(schemas.components["io.k8s.api.PodSpec"])
        #expect(spec["required"] == ["containers"])
        #expect(spec["properties"]?["containers"]?["items"]?["$ref"] == "#/components/schemas/io.k8s.api.Container")
        #expect(spec["properties"]?["containers"]?["description"] == "The containers of the pod. At least one.")
        #expect(spec["properties"]?["affinity"]?["allOf"] == [["$ref": "#/components/schemas/io.k8s.api.Affinity"]])
        let container = try #require(schemas.components["io.k8s.api.Container"])
        #expect(container["properties"]?["env"]?["items"]?["$ref"] == "#/components/schemas/io.k8s.api.EnvVar")
        #expect(container["properties"]?["resources"] != nil)
        let requirements = try #require(schemas.components["io.k8s.api.ResourceRequirements"])
        #expect(requirements["properties"]?["requests"]?["additionalProperties"]?["$ref"] == "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity")
        #expect(schemas.components["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?["properties"]?["labels"]?["additionalProperties"] == ["type": "string"])
        // Every member the model reads is in the schema: a kind's JSON members are its properties.
        for kind in ResourceKind.allCases { schemas.add(kind) }
        let deployment = try #require(schemas.components["io.k8s.api.DeploymentSpec"]?["properties"]?.objectValue)
        #expect(Set(deployment.keys) == ["replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused", "progressDeadlineSeconds"])
    }

    @Test func secretValuesAreShownAsSizes() throws {
        let secret: JSONValue = [
            "kind": "Secret", "data": ["password": "aHVudGVyMg=="], "stringData": ["token": "abc"],
            "metadata": ["name": "db", "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"]],
        ]
        let shown = Redaction.redact(secret, kind: "Secret")
        #expect(shown["data"] == ["password": "<7 bytes>"] && shown["stringData"] == ["token": "<3 bytes>"])
        #expect(!shown.jsonString.contains("aHVudGVyMg=="))
        let configMap: JSONValue = ["kind": "ConfigMap", "data": ["a": "b"]]
        #expect(Redaction.redact(configMap, kind: "ConfigMap") == configMap)
    }
}

/// CronJob schedules as robfig/cron's standard parser reads them.
@Suite struct CronScheduleTests {
    let utc = TimeZone(identifier: "UTC")!

    func next(_ spec: String, after: String, in zone: TimeZone? = nil) throws -> String? {
        let schedule = try CronSchedule(parsing: spec)
        let date = try #require(ResourceTable.parseTime(after))
        return schedule.next(after: date, in: zone ?? utc).map { $0.formatted(.iso8601) }
    }

    @Test func theNextTimeFollowsEveryFieldAndTheDayRule() throws {
        #expect(try next("* * * * *", after: "2026-01-01T10:00:05Z") == "2026-01-01T10:01:00Z")
        #expect(try next("*/15 * * * *", after: "2026-01-01T10:16:00Z") == "2026-01-01T10:30:00Z")
        #expect(try next("0 9-17/4 * * MON-FRI", after: "2026-01-02T17:30:00Z") == "2026-01-05T09:00:00Z")  // Friday evening → Monday
        #expect(try next("@monthly", after: "2026-01-31T12:00:00Z") == "2026-02-01T00:00:00Z")
        #expect(try next("0 0 29 2 *", after: "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z")
        // Both day fields restricted: either matches (the 13th, or any Friday).
        #expect(try next("0 0 13 * 5", after: "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z")
        #expect(try next("0 0 13 * *", after: "2026-01-01T00:00:00Z") == "2026-01-13T00:00:00Z")
        #expect(try next("0 0 * * 7", after: "2026-01-01T00:00:00Z") == "2026-01-04T00:00:00Z")  // 7 is Sunday
        #expect(try next("30 2 31 2 *", after: "2026-01-01T00:00:00Z") == nil)
        // In a time zone: 09:00 in New York is 14:00 UTC in winter.
        #expect(try next("0 9 * * *", after: "2026-01-01T00:00:00Z", in: TimeZone(identifier: "America/New_York")) == "2026-01-01T14:00:00Z")
    }

    @Test func badSchedulesSayWhy() {
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule(parsing: "* * *") }
        #expect((try? CronSchedule(parsing: "61 * * * *")) == nil)
        #expect((try? CronSchedule(parsing: "@often")) == nil)
        do { _ = try CronSchedule(parsing: "* * *") } catch { #expect(error.description == "expected exactly 5 fields, found 3: [* * *]") }
        let cron = try? Manifest.objects("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: \"* * *\", timeZone: Mars/Olympus, jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: b}]}}}}}")
        let errors = Validation.validate(Defaults.apply(cron![0])).map(\.description)
        #expect(errors == ["spec.schedule: Invalid value: \"* * *\": unparseable schedule: expected exactly 5 fields, found 3: [* * *]",
                           "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"])
    }
}
