import ClusterModel
import ControlPlane
import Foundation
import Journal
import Simulation
import Testing
import TestSupport

/// Runs a scenario file into a fresh journal; returns the checks and the export.
func simulate(_ file: String, seed: UInt64? = nil) async throws -> (checks: [Simulator.Check], ndjson: String, dir: TemporaryDirectory) {
    let dir = TemporaryDirectory()
    let text = try String(contentsOfFile: packageRoot + "/replay/" + file, encoding: .utf8)
    let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
    defer { journal.close() }
    let simulator = try await Simulator(scenario: try Scenario(yaml: text), journal: journal, seed: seed)
    let checks = try await simulator.run()
    let ndjson = try journal.read { try $0.events(in: 1...UInt64.max).map(NDJSON.line).joined(separator: "\n") }
    return (checks, ndjson, dir)
}

let scenarios = ["pod-create.yaml", "restart-always.yaml", "node-failure.yaml", "pod-delete-grace.yaml", "unschedulable.yaml", "rolling-update.yaml", "preemption.yaml"]

@Suite struct ScenarioTests {
    @Test(arguments: scenarios)
    func expectationsHoldAndTheJournalIsTheSameEveryRun(file: String) async throws {
        let first = try await simulate(file)
        #expect(!first.checks.isEmpty)
        for c in first.checks { #expect(c.passed, "\(file) at \(c.at / 1_000_000)s: \(c.expectation.summary): \(c.failure ?? "")") }
        let second = try await simulate(file)
        #expect(first.ndjson == second.ndjson, "\(file): two runs with the same seed wrote different journals")
        // Another seed keeps the expectations but changes the ids.
        let other = try await simulate(file, seed: 999)
        #expect(other.ndjson != first.ndjson)
    }

    @Test(arguments: scenarios)
    func everyComponentWriteHasADecisionOfThatComponentAsItsCause(file: String) async throws {
        let run = try await simulate(file)
        let events = run.ndjson.split(separator: "\n").map { try! NDJSON.event(from: Array($0.utf8)) }
        let byRevision = Dictionary(uniqueKeysWithValues: events.map { ($0.revision, $0) })
        var componentWrites = 0
        for e in events {
            if e.type.hasSuffix("Decided") || e.type == "FaultInjected" {
                let observed = try #require(e.observed, "decision \(e.revision) has no observed revision")
                #expect(observed < e.revision, "decision \(e.revision) observed \(observed)")
                if let t = e.trigger { #expect(t < e.revision) }
                continue
            }
            guard WriteType(rawValue: e.type) != nil, ["scheduler", "controller", "kubelet"].contains(e.actor.kind) else { continue }
            componentWrites += 1
            let cause = try #require(e.cause, "\(e.actor) wrote \(e.type) \(e.object) at \(e.revision) without a cause")
            let decision = try #require(byRevision[cause])
            #expect(decision.type.hasSuffix("Decided"), "the cause of \(e.revision) is a \(decision.type)")
            #expect(decision.actor == e.actor, "\(e.revision) by \(e.actor) is caused by \(decision.actor)'s \(cause)")
            #expect(cause < e.revision)
        }
        #expect(componentWrites > 5)
    }

    @Test func aRollingUpdateWithMaxUnavailableZeroKeepsThreePodsReady() async throws {
        let run = try await simulate("rolling-update.yaml")
        let journal = try Journal.open(at: run.dir.path, options: .reader)
        defer { journal.close() }
        let head = try journal.head().revision
        let settled = try journal.read { view in
            try view.events(in: 1...head).first { e in
                guard e.object.kind == "Deployment", e.type == "StatusUpdated" else { return false }
                return (try JSONValue.parse(e.data))["status"]?["availableReplicas"]?.intValue == 3
            }?.revision
        }
        let from = try #require(settled)
        // Until the Deployment is deleted at the end of the scenario.
        let end = try journal.read { view in
            try view.events(in: from...head).first { $0.object.kind == "Deployment" && $0.type == "Deleted" }?.revision
        } ?? head
        var minimum = Int.max, maximum = 0
        try journal.read { view in
            var state = try Projection.state(in: view, at: from)
            try view.forEach(in: (from + 1)...(end - 1)) { e in
                state.apply(e)
                guard e.object.kind == "Pod" else { return true }
                let pods = try state.list(.pod).map { try $0.decode(in: view) as! Pod }.filter { $0.metadata.deletionTimestamp == nil }
                minimum = min(minimum, pods.filter(\.isReady).count)
                maximum = max(maximum, pods.count)
                return true
            }
        }
        #expect(minimum == 3, "only \(minimum) ready pods at some point of the rollout")
        #expect(maximum == 4, "maxSurge 1 allows at most 4 pods; saw \(maximum)")
    }

    @Test func scenarioErrorsNameThePlace() {
        let bad = "name: x\ncluster: {nodes: [{name: n}]}\ntimeline:\n- at: 5s\n  expect: {pod: p, colour: blue}\n"
        let error = #expect(throws: Scenario.ReadError.self) { try Scenario(yaml: bad) }
        #expect(error?.description.contains("timeline[0].expect: pod checks do not know \"colour\"") == true)
        #expect(throws: Scenario.ReadError.self) { try Scenario(yaml: "name: x\ncluster: {nodes: []}\n") }
    }
}
