import Foundation
import Journal
import Testing
import TestSupport

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2026-11-22T18:38:53.000123Z", Int64(1_795_372_733_000_123)),
        ("2000-02-29T23:59:59.999999Z", Int64(951_868_799_999_999)),
        ("1969-12-31T23:59:59.5Z", Int64(-500_000)),
        ("2026-11-22T20:38:53+02:00", Int64(1_795_372_733_000_000)),
        ("2026-11-22T18:38:53.1234567891Z", Int64(1_795_372_733_123_456)),
    ])
    func parsesRFC3339(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == micros)
    }

    @Test func formatsAndParsesBack() {
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<2000 {
            let t = Timestamp(microseconds: Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &rng))
            #expect(Timestamp(rfc3339: t.rfc3339) == t)
        }
        #expect(Timestamp(microseconds: 1_795_372_733_000_123).rfc3339 == "2026-11-22T18:38:53.000123Z")
        #expect(Timestamp(microseconds: 1_795_372_733_900_000).rfc3339Seconds == "2026-11-22T18:38:53Z")
    }

    @Test(arguments: ["", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T18:38:53", "2026-11-22T18:38:53.Z", "2026-11-22T25:00:00Z", "x026-11-22T18:38:53Z"])
    func refusesNonsense(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}

@Suite struct JSONSyntaxTests {
    @Test(arguments: [#"{}"#, #"[]"#, #"0"#, #"-1.5e+10"#, #""a\"b\u00e9\ud83d\ude00""#, #"{"a":[1,{"b":null}],"c":true}"#, " [ 1 , 2 ] "])
    func acceptsJSON(text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try JSONSyntax.validate($0) }
    }

    @Test(arguments: [#"{"#, #"{"a"}"#, #"[1,]"#, #"01"#, #"1."#, #""\x""#, "\"a\nb\"", #"tru"#, #"{} {}"#, #"{'a':1}"#, #"NaN"#])
    func refusesNonJSON(text: String) {
        #expect(throws: JSONSyntax.Failure.self) { try Array(text.utf8).withUnsafeBytes { try JSONSyntax.validate($0) } }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONSyntax.Failure.self) { try Array(deep.utf8).withUnsafeBytes { try JSONSyntax.validate($0) } }
    }
}

@Suite struct NDJSONTests {
    @Test func everyFieldRoundTrips() async throws {
        let dir = TemporaryDirectory()
        let journal = try Journal.open(at: dir.path, options: JournalOptions(durability: .noSync))
        defer { journal.close() }
        let drafts = [
            EventDraft(
                time: Timestamp(seconds: 1_800_000_000), type: "Created", actor: Actor(kind: "user", name: "ålice \"q\""),
                object: ObjectRef(kind: "Pod", namespace: "ns", name: "p", uid: "u"), cause: 1, observed: 2, trigger: 3,
                request: "r\n1", data: Array(#"{"x":[1,2,{"y":"\u0000"}]}"#.utf8)),
            EventDraft(
                time: Timestamp(seconds: 1_800_000_001), type: "Created", actor: Actor(kind: "kubelet", name: "n"),
                object: ObjectRef(kind: "Node", name: "n"), data: Array("null".utf8)),
        ]
        let events = try await journal.append(drafts)
        for e in events {
            let line = NDJSON.line(for: e)
            #expect(try NDJSON.event(from: Array(line.utf8)) == e)
        }
        #expect(!NDJSON.line(for: events[1]).contains("namespace"))
    }

    @Test(arguments: [
        (#"{"rev":1}"#, "missing"),
        (#"{"rev":0,"time":"2026-01-01T00:00:00Z"}"#, "positive"),
        (#"[1]"#, "not a JSON object"),
        (#"{"rev":1,"rev":2}"#, "duplicate"),
        (#"{"rev":1,"extra":2}"#, "unknown key"),
    ])
    func refusesBadLines(line: String, reason: String) {
        let error = #expect(throws: NDJSON.ParseError.self) { try NDJSON.event(from: Array(line.utf8)) }
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}
