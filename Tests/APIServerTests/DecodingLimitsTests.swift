@testable import APIServer
@testable import ClusterModel
import ControlPlane
import Foundation
import Testing

/// Request bodies cost what their size justifies: YAML aliases and nesting, JSON nesting and the
/// protobuf reader are bounded (the "billion laughs" of CVE-2019-11253 and its relatives).
@Suite struct YAMLLimitTests {
    /// Nine levels of nine aliases: 9^9 = 387 million strings once expanded, in 390 bytes.
    static func laughs(levels: Int = 9, asKey: Bool = false) -> String {
        var lines = [#"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        let names = Array("abcdefghijkl")
        for i in 1..<levels { lines.append("\(names[i]): &\(names[i]) [" + Array(repeating: "*\(names[i - 1])", count: 9).joined(separator: ",") + "]") }
        if asKey { lines.append("? *\(names[levels - 1])\n: 1") }
        return lines.joined(separator: "\n")
    }

    @Test(.timeLimit(.minutes(5))) func aliasBombsAreRefused() {
        for text in [Self.laughs(), Self.laughs(asKey: true), Self.laughs(levels: 12)] {
            let started = ContinuousClock.now
            let error = #expect(throws: Manifest.ReadError.self) { try Manifest.documents(text) }
            #expect(error?.description.contains("document contains excessive aliasing") == true, "\(String(describing: error))")
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }

    @Test func aliasesWithinReasonStillWork() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: shared, labels: &labels {app: web, tier: front}}
            spec:
              containers:
              - {name: a, image: nginx, resources: &res {limits: {cpu: 100m}}}
              - {name: b, image: nginx, resources: *res}
            """
        let doc = try #require(try Manifest.documents(text).first)
        #expect(doc["spec"]?["containers"]?.arrayValue?.map { $0["resources"] } == [["limits": ["cpu": "100m"]], ["limits": ["cpu": "100m"]]])
        #expect(doc["metadata"]?["labels"] == ["app": "web", "tier": "front"])
        // Many aliases of small nodes are fine while real nodes outnumber them enough.
        let list = "items: &x [1]\nmore: [" + Array(repeating: "*x", count: 300).joined(separator: ", ") + "]\n"
            + (0..<1000).map { "k\($0): \($0)" }.joined(separator: "\n")
        #expect(try Manifest.documents(list).first?["more"]?.arrayValue?.count == 300)
    }

    @Test func goYAMLsAliasRatio() {
        #expect(YAMLComposer.allowedAliasRatio(1000) == 0.99)
        #expect(YAMLComposer.allowedAliasRatio(400_000) == 0.99)
        #expect(abs(YAMLComposer.allowedAliasRatio(2_200_000) - 0.545) < 1e-9)
        #expect(YAMLComposer.allowedAliasRatio(4_000_000) == 0.10)
        #expect(YAMLComposer.allowedAliasRatio(40_000_000) == 0.10)
    }

    @Test func nestingIsBounded() throws {
        func nested(_ depth: Int) -> String { "a: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        #expect(try Manifest.documents(nested(JSONValue.maxNesting - 2)).count == 1)
        let deep = #expect(throws: Manifest.ReadError.self) { try Manifest.documents(nested(JSONValue.maxNesting + 1)) }
        #expect(deep?.description.contains("nesting deeper than \(JSONValue.maxNesting)") == true, "\(String(describing: deep))")
        // Far deeper than any limit: libyaml's own (1,000) or ours stops it, without recursion.
        #expect(throws: Manifest.ReadError.self) { try Manifest.documents(nested(200_000)) }
        let json = "{\"a\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        let jsonError = #expect(throws: Manifest.ReadError.self) { try Manifest.documents(json) }
        #expect(jsonError?.description.contains("nesting deeper than \(JSONValue.maxNesting)") == true)
    }

    @Test func keysAreScalarsAndUnique() {
        let complex = #expect(throws: Manifest.ReadError.self) { try Manifest.documents("? [a, b]\n: 1\n") }
        #expect(complex?.description == "invalid YAML: mapping keys must be scalars at line 1, column 3")
        let duplicate = #expect(throws: Manifest.ReadError.self) { try Manifest.documents("a: 1\nb: 2\na: 3\n") }
        #expect(duplicate?.description == "invalid YAML: mapping key \"a\" already defined at line 3, column 1")
        let undefined = #expect(throws: Manifest.ReadError.self) { try Manifest.documents("a: *nowhere\n") }
        #expect(undefined?.description.contains("found undefined alias \"nowhere\"") == true)
    }

    @Test func scalarsAreTypedAsBefore() throws {
        let doc = try #require(try Manifest.documents("i: 3\ns: \"3\"\nb: true\nn: null\nt: ~\nf: 1.5\nx: 0x10\nk: nginx:1.27\n<<: {dropped: 1}\n").first)
        #expect(doc == ["i": 3, "s": "3", "b": true, "n": .null, "t": .null, "f": .double(1.5), "x": 16, "k": "nginx:1.27"])
        let syntax = #expect(throws: Manifest.ReadError.self) { try Manifest.documents("apiVersion: v1\nkind: Pod\n  metadata: [") }
        #expect(syntax?.description.hasPrefix("invalid YAML:") == true)
        #expect(syntax?.description.contains("at line 3, column") == true, "\(String(describing: syntax))")
        #expect(try Manifest.documents("---\na: 1\n---\n---\nb: 2\n") == [["a": 1], ["b": 2]])
    }
}

@Suite struct ProtobufLimitTests {
    /// An unknown field nested 100,000 deep is skipped whole, not descended into.
    @Test(.timeLimit(.minutes(5))) func deeplyNestedUnknownFieldsAreSkipped() throws {
        var inner: [UInt8] = []
        for _ in 0..<100_000 { inner = PB.bytes(99, inner) }
        let body = PB.envelope("v1", "Namespace", PB.cat(PB.message(1, PB.string(1, "deep")), inner))
        let json = try KubeProtobuf.decode(body)
        #expect(json["metadata"]?["name"] == "deep")
    }

    /// The message tables are not recursive, so a known field can nest no deeper than they do.
    @Test func theTablesNestFarLessThanTheJSONLimit() {
        func depth(_ m: ProtoMessage, _ level: Int) -> Int {
            guard level < JSONValue.maxNesting else { return level }
            return m.fields.values.map { field -> Int in
                switch field.value {
                case .message(let inner), .inline(let inner): depth(inner, level + 1)
                default: level + 1
                }
            }.max() ?? level
        }
        for kind in ResourceKind.allCases {
            guard let message = KubeMessages.message(apiVersion: kind.apiVersion, kind: kind.kind) else { continue }
            #expect(depth(message, 0) < 32, "\(kind)")
        }
    }

    @Test func lengthsBeyondTheBodyAreRefused() {
        // A length-delimited field claiming 2^62 bytes.
        let body = KubeProtobuf.magic + PB.key(2, 2) + PB.varint(1 << 62)
        #expect(throws: ProtobufError.self) { try KubeProtobuf.decode(body) }
    }
}
