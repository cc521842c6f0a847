// The libFuzzer entry point: every input goes to the target named by KJ_FUZZ_TARGET
// (`KJ_FUZZ_TARGET=quantity kj-fuzz corpus/quantity`); see docs/fuzzing.md.
import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

let target: FuzzTarget = {
    let name = getenv("KJ_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let t = FuzzTarget.named(name) else {
        fatalError("set KJ_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))")
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    target.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
