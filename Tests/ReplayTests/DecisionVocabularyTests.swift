import ClusterModel
import ControlPlane
import Foundation
import Journal
import Testing
import TestSupport

/// The typed decision vocabulary covers what the components write, byte for byte, and reads the
/// journals written before it.
@Suite struct DecisionVocabularyTests {
    /// The data of `e` read as its type and written again; nil for an event that has no type.
    static func roundTrip(_ e: Event) throws -> [UInt8]? {
        switch e.type {
        case KubeletDecision.eventType: return try #require(KubeletDecision.from(e), "\(e.revision)").json.serialized()
        case NodeLifecycleDecision.eventType: return try #require(NodeLifecycleDecision.from(e), "\(e.revision)").json.serialized()
        case ControllerDecision.eventType: return try #require(ControllerDecision.from(e), "\(e.revision)").json.serialized()
        case SchedulingDecision.eventType: return try #require(SchedulingDecision.from(e), "\(e.revision)").json.serialized()
        case ClusterInitialized.eventType: return try #require(ClusterInitialized.from(e)).json.serialized()
        case ControlPlaneStarted.eventType: return try #require(ControlPlaneStarted.from(e)).json.serialized()
        default: return nil
        }
    }

    @Test(arguments: scenarioFiles)
    func everyDecisionAScenarioWritesIsItsTypeByteForByte(file: String) async throws {
        let dir = TemporaryDirectory()
        let path = try await record(try scenario(file), in: dir)
        var typed: Set<String> = []
        for line in try ndjson(path) {
            let e = try NDJSON.event(from: Array(line.utf8))
            guard let again = try Self.roundTrip(e) else { continue }
            #expect(again == e.data, "\(file) revision \(e.revision) \(e.type): \(String(decoding: e.data, as: UTF8.self)) → \(String(decoding: again, as: UTF8.self))")
            typed.insert(e.type)
        }
        #expect(typed.isSuperset(of: [KubeletDecision.eventType, SchedulingDecision.eventType, NodeLifecycleDecision.eventType, ClusterInitialized.eventType]), "\(typed)")
    }

    @Test func theFirstFormatsDecisionsStillRead() throws {
        let lines = try String(contentsOfFile: packageRoot + "/journal/golden/v1.ndjson", encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try NDJSON.event(from: Array($0.utf8)) }
        let kubelet = events.compactMap(KubeletDecision.from)
        #expect(kubelet.count == 2)
        #expect(kubelet.allSatisfy { [.start, .terminate, .sigterm, .sigkill, .remove, .register].contains($0.action) }, "\(kubelet.map(\.action))")
        let scheduling = try #require(events.compactMap(SchedulingDecision.from).first)
        #expect(scheduling.outcome == .bound && scheduling.node != nil)
    }

    @Test func anUnknownActionReadsAsItself() throws {
        let d = try ValueDecoder(strict: false).decode(KubeletDecision.self, from: try JSONValue.parse(Array(#"{"action":"hibernate","node":"n1"}"#.utf8)))
        #expect(d.action.rawValue == "hibernate")
        #expect(d.action != .start)
    }
}
