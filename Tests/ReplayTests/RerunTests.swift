import ClusterModel
import ControlPlane
import Foundation
import Journal
import NodeAgent
import Replay
import Scheduler
import Simulation
import Testing
import TestSupport

/// `kj replay run` of the recording at `path`, in process; returns the comparison and the re-run's journal path.
func rerun(_ path: String, in dir: TemporaryDirectory, whatIf: WhatIf = WhatIf(), from: UInt64? = nil, name: String = "rerun")
    async throws -> (comparison: TimelineComparison, path: String, skipped: [SkippedInput]) {
    let recording = try Journal.open(at: path, options: .reader)
    defer { recording.close() }
    let out = dir.sub(name)
    let journal = try Journal.open(at: out, options: JournalOptions(durability: .noSync))
    defer { journal.close() }
    let r = try await Rerun(recording: recording, output: journal, whatIf: whatIf, from: from)
    _ = try await r.run()
    return (try TimelineComparison.compare(recorded: recording, through: try recording.head().revision, rerun: journal), out, r.skipped)
}

func scenario(_ file: String) throws -> String { try String(contentsOfFile: packageRoot + "/replay/" + file, encoding: .utf8) }

/// The events of the journal at `path` as NDJSON lines.
func ndjson(_ path: String) throws -> [String] {
    let j = try Journal.open(at: path, options: .reader)
    defer { j.close() }
    return try j.read { try $0.events(in: 1...UInt64.max).map(NDJSON.line) }
}

@Suite struct RerunTests {
    @Test(arguments: scenarioFiles)
    func aSimulationReRunsByteForByte(file: String) async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario(file), in: dir)
        let (c, out, skipped) = try await rerun(path, in: dir)
        #expect(c.identical, "\(file): first divergence \(String(describing: c.firstDivergence))")
        #expect(c.firstDecisionDivergence == nil && c.decisions > 0)
        #expect(try ndjson(out) == ndjson(path))
        #expect(skipped.isEmpty)
        #expect(c.sameOutcomes && c.timing.isEmpty)
    }

    @Test func anAddedNodeSchedulesThePendingPodAndTheReportSaysWhen() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario("unschedulable.yaml"), in: dir)
        var whatIf = WhatIf()
        whatIf.addedNodes = [SimulatedNode(name: "node-9", capacity: ["cpu": try Quantity(parsing: "16"), "memory": try Quantity(parsing: "32Gi"), "pods": try Quantity(parsing: "110")], index: 0)]
        let (c, _, _) = try await rerun(path, in: dir, whatIf: whatIf)
        let big = try #require(c.differences.first { $0.identity == "Pod/default/big" })
        #expect(big.recorded?.node == "node-4", "recorded: scheduled once node-4 joined")
        #expect(big.rerun?.node == "node-9")
        let bound = try #require(c.timing.first { $0.identity == "Pod/default/big" && $0.point == "bound" })
        #expect(bound.recordedSeconds > 60 && bound.rerunSeconds < 1, "\(bound)")
    }

    @Test func aMostAllocatedProfilePacksTheRollingUpdateAndListsEachMovedPod() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario("rolling-update.yaml"), in: dir)
        var whatIf = WhatIf()
        let config = try Manifest.documents("""
            apiVersion: kubescheduler.config.k8s.io/v1
            kind: KubeSchedulerConfiguration
            profiles:
            - schedulerName: default-scheduler
              pluginConfig:
              - name: NodeResourcesFit
                args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]}}
              plugins:
                score:
                  disabled: [{name: PodTopologySpread}, {name: NodeResourcesBalancedAllocation}]
            """)[0]
        whatIf.schedulerProfiles = try SchedulerConfiguration.profiles(config).map(SchedulerProfile.init)
        let (c, out, _) = try await rerun(path, in: dir, whatIf: whatIf)
        let moved = c.differences.filter { $0.what.contains { $0.hasPrefix("placed on") } }
        #expect(moved.count >= 2, "\(c.differences.map(\.what))")
        // Packed: more of the re-run's pods went to its busiest node than of the recording's.
        func busiest(_ p: String) throws -> Int {
            let nodes = try Outcomes.pods(in: Journal.open(at: p, options: .reader)).values.compactMap(\.node)
            return Dictionary(grouping: nodes, by: { $0 }).values.map(\.count).max() ?? 0
        }
        #expect(try busiest(out) > busiest(path))
    }

    @Test func droppingTheNodeCrashMeansNoEvictions() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario("node-failure.yaml"), in: dir)
        let crash = try #require(try ndjson(path).map { try NDJSON.event(from: Array($0.utf8)) }.first { $0.type == "FaultInjected" })
        var whatIf = WhatIf()
        whatIf.dropped = [crash.revision]
        let (c, out, _) = try await rerun(path, in: dir, whatIf: whatIf)
        let events = try ndjson(out).map { try NDJSON.event(from: Array($0.utf8)) }
        #expect(!events.contains { $0.type == "FaultInjected" && String(decoding: $0.data, as: UTF8.self).contains("\"crash\"") })
        #expect(!events.contains { $0.type == "NodeLifecycleDecided" && String(decoding: $0.data, as: UTF8.self).contains("\"evict\"") })
        #expect(c.differences.contains { $0.what.contains("evicted only in the recording") })
        // The first decision the re-run did not make: node-2 marked unreachable.
        let d = try #require(c.firstDecisionDivergence)
        #expect(d.recorded?.contains("NodeLifecycleDecided by controller/node-lifecycle about Node/node-2: mark-unreachable") == true, "\(d)")
    }

    @Test func aReRunFromTheMiddleKeepsTheRecordedPastAndTheOutcomes() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario("node-failure.yaml"), in: dir)
        let (c, out, _) = try await rerun(path, in: dir, from: 60)
        #expect(Array(try ndjson(out).prefix(60)) == Array(try ndjson(path).prefix(60)))
        #expect(c.sameOutcomes, "\(c.differences.map(\.what))")
    }
}

@Suite struct ExtractTests {
    @Test(arguments: scenarioFiles)
    func anExtractedScenarioSimulatesAndPassesItsOwnExpectations(file: String) async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario(file), in: dir)
        let journal = try Journal.open(at: path, options: .reader)
        let extraction = try ScenarioExtraction.extract(from: journal, name: "extracted")
        journal.close()
        let parsed = try Scenario(yaml: extraction.yaml)
        #expect(parsed.steps.contains { if case .expect = $0.action { return true }; return false })
        // `record` checks every expectation of the extracted scenario.
        _ = try await record(extraction.yaml, in: dir, name: "again")
    }
}

@Suite struct RerunRefusalTests {
    /// What-if changes that name what the recording does not have are refused before anything is written.
    @Test func changesNamingWhatTheRecordingLacksAreRefused() async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario("node-failure.yaml"), in: dir)
        let decision = try #require(try ndjson(path).map { try NDJSON.event(from: Array($0.utf8)) }.first { $0.type == "SchedulingDecided" })
        var dropDecision = WhatIf(), removeUnknown = WhatIf(), addExisting = WhatIf()
        dropDecision.dropped = [decision.revision]
        removeUnknown.removedNodes = ["node-77"]
        addExisting.addedNodes = [SimulatedNode(name: "node-1", capacity: [:], index: 0)]
        for (whatIf, message) in [(dropDecision, "not an input"), (removeUnknown, "no node node-77 in the recording (its nodes: node-1, node-2, node-3)"),
                                  (addExisting, "already has a node node-1")] {
            let recording = try Journal.open(at: path, options: .reader)
            let out = try Journal.open(at: dir.sub("out-\(message.count)"), options: JournalOptions(durability: .noSync))
            defer { recording.close(); out.close() }
            do {
                _ = try await Rerun(recording: recording, output: out, whatIf: whatIf)
                Issue.record("accepted: \(message)")
            } catch let e as ReplayError {
                #expect(e.description.contains(message), "\(e)")
            }
            #expect(try out.head().revision == 0, "nothing written")
        }
    }
}
