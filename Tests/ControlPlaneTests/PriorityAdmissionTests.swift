import ClusterModel
import ControlPlane
import Testing

/// kube-apiserver's Priority admission and PriorityClass validation, with their messages.
@Suite struct PriorityAdmissionTests {
    func priorityClass(_ name: String, _ value: Int32, globalDefault: Bool? = nil, never: Bool = false) -> PriorityClass {
        PriorityClass(metadata: ObjectMeta(name: name), value: value, globalDefault: globalDefault, preemptionPolicy: never ? "Never" : nil)
    }

    @Test func aPodGetsItsClassesPriorityAndPolicy() async throws {
        let f = try await Fixture()
        let created = try await f.store.create(priorityClass("high", 1000), by: alice)
        #expect(created.preemptionPolicy == "PreemptLowerPriority")
        _ = try await f.store.create(priorityClass("polite", 500, never: true), by: alice)
        var p = pod("a")
        p.spec.priorityClassName = "high"
        let a = try await f.store.create(p, by: alice)
        #expect(a.spec.priority == 1000 && a.spec.preemptionPolicy == "PreemptLowerPriority")
        p = pod("b")
        p.spec.priorityClassName = "polite"
        let b = try await f.store.create(p, by: alice)
        #expect(b.spec.priority == 500 && b.spec.preemptionPolicy == "Never")
        // Without a class and without a global default: 0.
        let c = try await f.store.create(pod("c"), by: alice)
        #expect(c.spec.priority == 0 && c.spec.priorityClassName == nil && c.spec.preemptionPolicy == "PreemptLowerPriority")
        // The built-in classes need no object.
        p = pod("d")
        p.spec.priorityClassName = PriorityClass.systemNodeCritical
        #expect(try await f.store.create(p, by: alice).spec.priority == 2_000_001_000)
    }

    @Test func theLowestGlobalDefaultAppliesToPodsNamingNoClass() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(priorityClass("default-high", 300, globalDefault: true), by: alice)
        _ = try await f.store.create(priorityClass("default-low", 200, globalDefault: true), by: alice)
        let p = try await f.store.create(pod("a"), by: alice)
        #expect(p.spec.priority == 200 && p.spec.priorityClassName == "default-low")
    }

    @Test func admissionRefusesWhatItCannotResolveAndLeavesTheJournalAlone() async throws {
        let f = try await Fixture()
        let before = try f.head()
        var p = pod("a")
        p.spec.priorityClassName = "missing"
        let missing = await #expect(throws: StatusError.self) { try await f.store.create(p, by: alice) }
        #expect(missing?.reason == .forbidden)
        #expect(missing?.message == "pods \"a\" is forbidden: no PriorityClass with name missing was found")
        p = pod("b")
        p.spec.priority = 7
        let given = await #expect(throws: StatusError.self) { try await f.store.create(p, by: alice) }
        #expect(given?.message == "pods \"b\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name")
        #expect(try f.head() == before)
    }

    @Test func classesAreValidatedAsKubeApiserverDoes() async throws {
        let f = try await Fixture()
        let tooHigh = await #expect(throws: StatusError.self) { try await f.store.create(priorityClass("huge", 1_000_000_001), by: alice) }
        #expect(tooHigh?.message.contains("value: Forbidden: maximum allowed value of a user defined priority is 1000000000") == true, "\(tooHigh?.message ?? "")")
        let reserved = await #expect(throws: StatusError.self) { try await f.store.create(priorityClass("system-mine", 10), by: alice) }
        #expect(reserved?.message.contains("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only") == true)
        var pc = try await f.store.create(priorityClass("high", 1000), by: alice)
        pc.value = 2000
        let immutable = await #expect(throws: StatusError.self) { try await f.store.update(pc, by: alice) }
        #expect(immutable?.message.contains("value: Invalid value: 2000: field is immutable") == true, "\(immutable?.message ?? "")")
    }
}
