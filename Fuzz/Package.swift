// swift-tools-version:5.4
// The libFuzzer harness for the fuzz targets in Sources/FuzzTargets, kept out of the main build
// (docs/fuzzing.md; scripts/fuzz.sh builds and runs it). Built with
//
//   swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links executables with
// `--defsym main=<module>_main`, a symbol that `-parse-as-library` never defines, and the link fails;
// before 5.5 libFuzzer's own `main` is used (swiftlang/swift-package-manager#4522).
import PackageDescription

let package = Package(
    name: "KubeJournalFuzz",
    dependencies: [.package(name: "KubeJournal", path: "..")],
    targets: [
        .executableTarget(name: "kj-fuzz", dependencies: [.product(name: "FuzzTargets", package: "KubeJournal")]),
    ]
)
