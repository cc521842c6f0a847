import ClusterModel
import ControlPlane
import Testing

/// kube-apiserver's LimitRanger and ResourceQuota admission, with their messages.
@Suite struct QuotaAdmissionTests {
    func pod(_ name: String, cpu: String? = nil, limit: String? = nil) -> Pod {
        var c = Container(name: "c", image: "nginx")
        var r = ResourceRequirements()
        if let cpu { r.requests = ["cpu": try! Quantity(parsing: cpu)] }
        if let limit { r.limits = ["cpu": try! Quantity(parsing: limit)] }
        c.resources = r
        return Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec(containers: [c]))
    }

    func limitRange(_ item: LimitRangeItem) -> LimitRange {
        LimitRange(metadata: ObjectMeta(name: "limits", namespace: "default"), spec: LimitRangeSpec(limits: [item]))
    }

    @Test func aLimitRangeGivesDefaultsAndSaysSo() async throws {
        let f = try await Fixture()
        var item = LimitRangeItem(type: "Container")
        item.default = ["cpu": try Quantity(parsing: "500m"), "memory": try Quantity(parsing: "256Mi")]
        item.defaultRequest = ["cpu": try Quantity(parsing: "100m"), "memory": try Quantity(parsing: "128Mi")]
        _ = try await f.store.create(limitRange(item), by: alice)
        let p = try await f.store.create(pod("plain"), by: alice)
        #expect(p.spec.containers[0].resources?.requests == ["cpu": try Quantity(parsing: "100m"), "memory": try Quantity(parsing: "128Mi")])
        #expect(p.spec.containers[0].resources?.limits == ["cpu": try Quantity(parsing: "500m"), "memory": try Quantity(parsing: "256Mi")])
        #expect(p.metadata.annotations?["kubernetes.io/limit-ranger"] == "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c")
    }

    @Test func aLimitRangesBoundsAreEnforced() async throws {
        let f = try await Fixture()
        var item = LimitRangeItem(type: "Container")
        item.max = ["cpu": try Quantity(parsing: "1")]
        _ = try await f.store.create(limitRange(item), by: alice)
        do {
            _ = try await f.store.create(pod("big", cpu: "2", limit: "2"), by: alice)
            Issue.record("a pod over the maximum was admitted")
        } catch {
            #expect(error.reason == .forbidden && error.message == "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2")
        }
        // The LimitRange's own default (its max) makes a pod without a limit acceptable.
        let p = try await f.store.create(pod("small", cpu: "500m"), by: alice)
        #expect(p.spec.containers[0].resources?.limits?["cpu"] == (try Quantity(parsing: "1")))
    }

    @Test func aQuotaRefusesWhatWouldExceedIt() async throws {
        let f = try await Fixture()
        let quota = ResourceQuota(metadata: ObjectMeta(name: "compute", namespace: "default"),
                                  spec: ResourceQuotaSpec(hard: ["pods": Quantity(2), "requests.cpu": try Quantity(parsing: "1"), "count/configmaps": Quantity(1)]))
        _ = try await f.store.create(quota, by: alice)
        do {
            _ = try await f.store.create(pod("bare"), by: alice)
            Issue.record("a pod without requests was admitted under a requests.cpu quota")
        } catch {
            #expect(error.message == "pods \"bare\" is forbidden: failed quota: compute: must specify requests.cpu for: c")
        }
        _ = try await f.store.create(pod("a", cpu: "400m"), by: alice)
        _ = try await f.store.create(pod("b", cpu: "400m"), by: alice)
        let head = try f.head()
        do {
            _ = try await f.store.create(pod("c", cpu: "400m"), by: alice)
            Issue.record("a pod over the quota was admitted")
        } catch {
            #expect(error.message == "pods \"c\" is forbidden: exceeded quota: compute, requested: pods=1,requests.cpu=400m, used: pods=2,requests.cpu=800m, limited: pods=2,requests.cpu=1")
        }
        #expect(try f.head() == head, "a refused write appends nothing")
        _ = try await f.store.create(ConfigMap(metadata: ObjectMeta(name: "one", namespace: "default")), by: alice)
        await #expect(throws: StatusError.self) { _ = try await f.store.create(ConfigMap(metadata: ObjectMeta(name: "two", namespace: "default")), by: alice) }
        // Another namespace is not this quota's business.
        _ = try await f.store.create(Namespace(name: "other"), by: alice)
        var elsewhere = pod("c", cpu: "400m")
        elsewhere.metadata.namespace = "other"
        _ = try await f.store.create(elsewhere, by: alice)
    }
}
