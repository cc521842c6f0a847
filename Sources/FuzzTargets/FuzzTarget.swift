/// The fuzz targets: each takes arbitrary bytes and hands them to a decoder the server, the CLI or
/// the journal uses on input from outside, then to what follows it there (validation, the bytes the
/// Store would append, the journal's re-reading).
///
/// An entry function must return on every input: a decoding error is the expected answer to bad
/// bytes, and a trap is a bug. Where the code after a decoder relies on a property (the bytes the
/// Store appends decode again; a record the verifier accepts folds), the entry function checks it
/// and traps with `FuzzTarget.violated` if it does not hold, so the fuzzer reports it as a crash.
///
/// The libFuzzer harnesses (`Fuzz/`), `kj-fuzz-replay` and the `FuzzTests` suite all run these.
public struct FuzzTarget: Sendable {
    /// The target's name: its corpus directory, its harness (`fuzz-<name>`), `scripts/fuzz.sh <name>`.
    public let name: String
    /// Feeds one input through the target.
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    /// Every target, in the order scripts and tests run them.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "manifest-json", run: manifestJSON),
        FuzzTarget(name: "manifest-yaml", run: manifestYAML),
        FuzzTarget(name: "protobuf", run: protobuf),
        FuzzTarget(name: "quantity", run: quantity),
        FuzzTarget(name: "label-selector", run: labelSelector),
        FuzzTarget(name: "field-selector", run: fieldSelector),
        FuzzTarget(name: "merge-patch", run: mergePatch),
        FuzzTarget(name: "strategic-merge-patch", run: strategicMergePatch),
        FuzzTarget(name: "json-patch", run: jsonPatch),
        FuzzTarget(name: "ndjson", run: ndjson),
        FuzzTarget(name: "event-record", run: eventRecord),
    ]

    /// The target called `name`, if there is one.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// Traps: a property the code after a decoder relies on does not hold for this input.
    static func violated(_ what: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        fatalError("fuzz invariant violated: \(what)", file: file, line: line)
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a string, invalid UTF-8 replaced (as the server reads a YAML body or a query).
    var text: String { String(decoding: self, as: UTF8.self) }

    /// The bytes before the first newline and those after it (empty when there is none): targets
    /// that need two inputs (a document and a patch, a selector and labels) read them this way, so
    /// corpus files stay readable.
    var twoLines: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        guard let i = firstIndex(of: 10) else { return (self, UnsafeRawBufferPointer(rebasing: self[count...])) }
        return (UnsafeRawBufferPointer(rebasing: self[..<i]), UnsafeRawBufferPointer(rebasing: self[(i + 1)...]))
    }
}
