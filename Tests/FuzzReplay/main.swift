// kj-fuzz-replay: feeds files, then seeded mutations of them, through one fuzz target, in its own
// process, so that a trap ends this process and not the test run that started it (FuzzTests).
//
//   kj-fuzz-replay TARGET [--mutations N] [--seed S] [--dict FILE] [--current FILE] PATH...
//
// PATHs are files or directories (their files, in name order); mutations draw on the libFuzzer
// dictionary FILE (Fuzz/kj.dict) besides the inputs. Before each input runs, it is
// written to FILE when given, so whoever sees this process die knows the input that killed it.
// Prints one summary line and exits 0 when every input returned.

import Foundation
import FuzzTargets
import TestSupport

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kj-fuzz-replay: \(message)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.popFirst() else { fail("usage: kj-fuzz-replay TARGET [--mutations N] [--seed S] [--dict FILE] [--current FILE] PATH...") }
guard let target = FuzzTarget.named(name) else { fail("no target \(name); targets: \(FuzzTarget.all.map(\.name).joined(separator: ", "))") }
var mutations = 0, seed: UInt64 = 1
var currentPath: String?
var dictionary: [[UInt8]] = []
var paths: [String] = []
while let a = arguments.popFirst() {
    switch a {
    case "--mutations": mutations = arguments.popFirst().flatMap { Int($0) } ?? -1
    case "--seed": seed = arguments.popFirst().flatMap { UInt64($0) } ?? 0
    case "--current": currentPath = arguments.popFirst()
    case "--dict":
        guard let path = arguments.popFirst(), let data = FileManager.default.contents(atPath: path) else { fail("--dict needs a readable file") }
        dictionary = Mutator.dictionary(String(decoding: data, as: UTF8.self))
    default: paths.append(a)
    }
}
guard mutations >= 0 else { fail("--mutations needs a count") }

var inputs: [(label: String, bytes: [UInt8])] = []
for path in paths {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("\(path) does not exist") }
    let files = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
        : [path]
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
        inputs.append((file, [UInt8](data)))
    }
}

let current: FileHandle? = currentPath.map { path in
    guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else { fail("cannot write \(path)") }
    return h
}

func run(_ bytes: [UInt8], _ label: String) {
    if let current {
        let record = Data(label.utf8) + Data([0]) + Data(bytes)
        try? current.seek(toOffset: 0)
        current.write(record)
        try? current.truncate(atOffset: UInt64(record.count))
    }
    bytes.withUnsafeBytes { target.run($0) }
}

for input in inputs { run(input.bytes, input.label) }
var mutator = Mutator(seed: seed, corpus: inputs.map(\.bytes), dictionary: dictionary)
if !inputs.isEmpty {
    for i in 0..<mutations { run(mutator.next(), "mutation \(i) of seed \(seed)") }
}
print("\(name): \(inputs.count) files and \(inputs.isEmpty ? 0 : mutations) mutations (seed \(seed)) returned")
