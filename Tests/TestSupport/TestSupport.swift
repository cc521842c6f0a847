import Foundation
import Journal

/// A new, empty temporary directory, removed when the returned object is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "kj-test") {
        let base = NSTemporaryDirectory() + "\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    /// A path inside the directory (not created).
    public func sub(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The package's root directory (where Package.swift is).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()

/// The `kj` executable built alongside the tests.
public let kjExecutable: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [beside, beside.deletingLastPathComponent()] {
        let candidate = dir.appendingPathComponent("kj").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    let fallback = packageRoot + "/.build/debug/kj"
    precondition(FileManager.default.isExecutableFile(atPath: fallback), "kj executable not found")
    return fallback
}()

/// What a finished process left.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs `kj` with `arguments` to completion. It blocks its thread until the process ends: on two
/// cores two such tests hold the whole cooperative pool, and in-process async tests wait — which is
/// why the time limits of those are hang guards of minutes, not measures.
public func runKJ(_ arguments: [String], environment: [String: String]? = nil, stdin: Data? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: kjExecutable)
    p.arguments = arguments
    var env = environment ?? ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    p.environment = env
    let out = ChildProcesses.pipe(), err = ChildProcesses.pipe()
    p.standardOutput = out
    p.standardError = err
    let input = ChildProcesses.pipe()
    p.standardInput = input
    try ChildProcesses.start(p)
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes concurrently, so a full stderr pipe cannot block the child.
    let errData = LockedData()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData.set(err.fileHandleForReading.readAllRetryingInterrupts())
        group.leave()
    }
    let outData = out.fileHandleForReading.readAllRetryingInterrupts()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// SplitMix64: a small seeded generator, so a failing random test can be replayed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A syntactically valid event for tests.
public func testDraft(
    _ i: Int, kind: String = "Pod", namespace: String = "default", name: String? = nil,
    time: Timestamp? = nil, type: String = "Updated"
) -> EventDraft {
    EventDraft(
        time: time ?? Timestamp(seconds: 1_700_000_000).adding(microseconds: Int64(i) * 1000),
        type: type, actor: Actor(kind: "user", name: "tester"),
        object: ObjectRef(kind: kind, namespace: namespace, name: name ?? "obj-\(i)", uid: "uid-\(i)"),
        data: Array(#"{"i":\#(i)}"#.utf8))
}

/// Reads `process`'s output until a line contains `text`; after `seconds` without one, stops the
/// process and returns nil.
public func readLine(from handle: FileHandle, of process: Process, containing text: String, within seconds: Double) -> String? {
    final class Found: @unchecked Sendable { var line: String? }
    let found = Found()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        var buffer = ""
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer += String(decoding: chunk, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.contains(text) }) {
                found.line = String(line)
                break
            }
        }
        done.signal()
    }
    if done.wait(timeout: .now() + seconds) == .timedOut {
        process.terminate()
        done.wait()
    }
    return found.line
}

extension FileHandle {
    /// Everything up to end of file, reading again when a signal interrupts the read (Foundation's
    /// `readDataToEndOfFile` traps on EINTR, and child processes' signals reach the test process).
    public func readAllRetryingInterrupts() -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n == 0 || errno != EINTR {
                return data
            }
        }
    }
}
