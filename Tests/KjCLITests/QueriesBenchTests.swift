import Foundation
import Testing
import TestSupport

/// `kj bench queries` runs end to end on a small simulated journal and reports every figure.
/// A test of the command, not of speed: the values need only be plausible.
@Suite struct QueriesBenchTests {
    @Test func reportsEveryFigureOnASmallJournal() throws {
        let result = try runKJ(["bench", "queries", "--events", "20000", "--head-pods", "3000", "--json"])
        try #require(result.status == 0, "kj bench queries failed: \(result.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Double], "\(result.stdout)")
        for key in ["why", "history", "get_at", "diff"].flatMap({ q in ["p50", "p99", "max", "p99_cpu"].map { "\(q)_\($0)_ms" } })
            + ["events_filter_per_s", "scan_per_s", "events_filter_over_scan", "events_filter_matches", "generate_seconds",
               "journal_mb", "pods_placed_at_head", "pods_in_journal", "why_causes_p50", "history_entries_p50",
               "history_own_events_p50", "get_at_pods_p50", "diff_objects_p50", "get_at_decoded_p50_ms",
               "get_all_p50_ms", "get_all_cli_ms", "get_all_decoded_ms"] {
            let value = try #require(figures[key], "no \(key) in \(result.stdout)")
            #expect(value > 0 && value.isFinite, "\(key) = \(value)")
        }
        // The scenario is sized to about the events asked for.
        let events = try #require(figures["events"])
        #expect(events > 15_000 && events < 30_000, "\(events) events")
        for q in ["why", "history", "get_at", "diff"] {
            #expect(figures["\(q)_p50_ms"]! <= figures["\(q)_p99_ms"]! && figures["\(q)_p99_ms"]! <= figures["\(q)_max_ms"]!, "\(q)")
        }
        // Every pod's history has its creation, scheduling, start and removal.
        #expect(figures["history_own_events_p50"]! >= 8)
        #expect(figures["events_filter_matches"]! >= 10)
        #expect(figures["get_all_pods"] == 3000)
    }
}
