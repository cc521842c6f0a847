import Foundation
import Testing
import TestSupport

/// A `kj serve` process on a free port with its own journal, and the clients we did not write
/// (kubectl, curl, the Python client) pointed at it.
final class ServedCluster: @unchecked Sendable {
    let directory = TemporaryDirectory("kj-serve")
    let journal: String
    let process = Process()
    private(set) var url = ""
    private(set) var kubeconfig = ""
    private(set) var adminToken = ""
    let viewerToken = "viewer-token-0123456789"
    /// A user in no group (with `withViewer`): neither read-only nor exempt from the in-flight limits.
    let userToken = "user-token-0123456789"
    private let output = ChildProcesses.pipe()
    /// The server this one restarted, kept so its directory (and journal) lives as long as this one.
    private let previous: ServedCluster?

    /// Starts the server and waits until it listens. `withViewer`: use a token file with an admin,
    /// a read-only viewer and a plain user instead of the generated one; `cluster`: a scenario
    /// file's nodes; `options`: more `kj serve` options; `fileLimit`: the server's soft and hard
    /// limits on open files; `after`: a stopped server whose journal this one serves again (a restart);
    /// `journalPath`: where the journal lives, when not in the cluster's own directory.
    init(nodes: Int = 3, withViewer: Bool = false, cluster: String? = nil, options: [String] = [], fileLimit: (soft: Int, hard: Int)? = nil,
         after previous: ServedCluster? = nil, journal journalPath: String? = nil) throws {
        self.previous = previous
        journal = journalPath ?? previous?.journal ?? directory.sub("journal")
        var arguments = ["serve", "--journal", journal, "--listen", "127.0.0.1:0", "--log-level", "warning"]
        arguments += cluster.map { ["--cluster", $0] } ?? ["--nodes", String(nodes)]
        if withViewer {
            adminToken = "admin-token-0123456789"
            let file = directory.sub("tokens.csv")
            try "\(adminToken),admin,admin-uid,\"system:masters\"\n\(viewerToken),viewer,viewer-uid,\"kubejournal:viewers\"\n\(userToken),alice,alice-uid\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            arguments += ["--token-file", file]
        }
        arguments += options
        if let fileLimit {
            // The shell lowers its limits, then becomes kj (same process).
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -Sn \(fileLimit.soft) && ulimit -Hn \(fileLimit.hard) && exec \"$0\" \"$@\"", kjExecutable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: kjExecutable)
            process.arguments = arguments
        }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try ChildProcesses.start(process)
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("kubeconfig: "), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let listening = text.range(of: "listening on "), let kc = text.range(of: "kubeconfig: ") else {
            process.terminate()
            throw ServeFailed(output: text)
        }
        url = String(text[listening.upperBound...].prefix { !$0.isWhitespace })
        kubeconfig = String(text[kc.upperBound...].prefix { !$0.isWhitespace })
        if adminToken.isEmpty {
            let tokens = try String(contentsOfFile: journal + "/tokens.csv", encoding: .utf8)
            adminToken = String(tokens.split(separator: "\n").first { !$0.hasPrefix("#") }!.split(separator: ",")[0])
        }
    }

    struct ServeFailed: Error { var output: String }

    /// The server's process id.
    var pid: Int32 { process.processIdentifier }

    /// Whether the server is still running and answers `/healthz`.
    var isUp: Bool {
        guard process.isRunning, let answer = try? curl("GET", "/healthz", token: nil) else { return false }
        return answer.code == 200
    }

    /// Stops the server with SIGTERM and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop() }

    func kubectl(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        try run("/usr/bin/env", ["kubectl"] + arguments, environment: ["KUBECONFIG": kubeconfig], stdin: stdin)
    }

    func kj(_ arguments: [String]) throws -> ProcessResult {
        try runKJ(arguments + ["--journal", journal])
    }

    /// curl against the server, trusting its CA; returns the HTTP code and the body (code 0 when
    /// no answer came within 60 s).
    func curl(_ method: String, _ path: String, token: String?, contentType: String = "application/json", body: String? = nil,
              bodyFile: String? = nil, headers: [String] = []) throws -> (code: Int, body: String) {
        var args = ["curl", "-s", "-m", "60", "-X", method, "--cacert", journal + "/ca.crt", "-w", "\n%{http_code}", "-H", "Content-Type: \(contentType)"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        for h in headers { args += ["-H", h] }
        if let body { args += ["--data-binary", body] }
        if let bodyFile { args += ["--data-binary", "@" + bodyFile] }
        args.append(url + path)
        let r = try run("/usr/bin/env", args)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// Waits until the server has at least `count` open watches (its `kubejournal_watchers`): a
    /// client's watch is connected, so what happens next reaches it.
    func waitForWatchers(_ count: Int, within seconds: Double = 30) throws {
        _ = try eventually(seconds, "\(count) watch(es) open") {
            let (_, text) = try curl("GET", "/metrics", token: adminToken)
            let line = text.split(separator: "\n").first { $0.hasPrefix("kubejournal_watchers ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= Double(count) } ?? false
        }
    }

    /// Retries `check` (each try a fresh look) until it passes or `seconds` run out.
    func eventually(_ seconds: Double = 60, _ what: String, _ check: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try check() { return true }
            Thread.sleep(forTimeInterval: 0.5)
        }
        Issue.record("timed out waiting for \(what)")
        return false
    }
}

/// Runs a program to completion.
func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    let out = ChildProcesses.pipe(), err = ChildProcesses.pipe(), input = ChildProcesses.pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try ChildProcesses.start(p)
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let errData = DataBox()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData.data = err.fileHandleForReading.readAllRetryingInterrupts()
        group.leave()
    }
    let outData = out.fileHandleForReading.readAllRetryingInterrupts()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.data, as: UTF8.self))
}

final class DataBox: @unchecked Sendable { var data = Data() }
