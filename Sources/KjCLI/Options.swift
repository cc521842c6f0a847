import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import Foundation
import Journal

/// `--journal DIR`, shared by every command that reads or writes a journal.
struct JournalLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The journal directory.",
        discussion: "Default: $KJ_JOURNAL, else ${XDG_DATA_HOME:-$HOME/.local/share}/kubejournal/journal.",
        valueName: "dir"))
    var journal: String?

    /// The directory to use: `--journal`, else the default for this environment.
    var path: String {
        journal ?? Self.defaultPath(environment: ProcessInfo.processInfo.environment)
    }

    static func defaultPath(environment env: [String: String]) -> String {
        if let j = env["KJ_JOURNAL"], !j.isEmpty { return j }
        let dataHome = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return dataHome + "/kubejournal/journal"
    }

    func openReadOnly() throws -> Journal {
        try Journal.open(at: path, options: .reader)
    }

    /// Opens the journal to write it directly — refused while `kj serve` holds it, since the
    /// server is then its single writer.
    func openForWriting() throws -> Journal {
        if let server = ServeLock.holder(journal: path) {
            throw CLIError("the journal at \(path) is served by kj serve (\(server)); write through the server (kubectl with the kubeconfig kj kubeconfig prints), or stop it first")
        }
        return try Journal.open(at: path)
    }
}

/// `--server URL`: ask a `kj serve`'s journal endpoints instead of opening the journal.
struct RemoteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Ask this kj serve (https://HOST:PORT) instead of opening the journal.", valueName: "url")) var server: String?
    @Option(help: ArgumentHelp("The kubeconfig whose current context's token and CA --server uses (default: $KUBECONFIG, else ~/.kube/config).",
                               valueName: "file"))
    var kubeconfig: String?

    /// With `--server`: what `body` gets from a client of that server (closed after); without:
    /// nil, and the journal is read directly.
    func withClient<T>(_ body: (JournalClient) async throws -> T) async throws -> T? {
        guard let server else { return nil }
        return try await JournalClient.with(server: server, kubeconfig: kubeconfig, body)
    }

    /// With `--server`: the JSON document at `path`, decoded; without: nil.
    func fetch<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T? {
        try await withClient { try await $0.fetch(type, path) }
    }
}

/// A label written `key=value` (`kj node add --label`, `kj replay run --add-node …,label=`).
func parseLabel(_ text: String, option: String) throws -> (key: String, value: String) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty else { throw CLIError("\(option) wants key=value, got \(text)") }
    return (parts[0], parts[1])
}

/// A taint written `key[=value]:Effect` (`kj node add --taint`, `kj replay run --add-node …,taint=`).
func parseTaint(_ text: String, option: String) throws -> Taint {
    guard let colon = text.lastIndex(of: ":") else { throw CLIError("\(option) wants key[=value]:Effect, got \(text)") }
    let kv = text[..<colon].split(separator: "=", maxSplits: 1).map(String.init)
    guard let key = kv.first, !key.isEmpty else { throw CLIError("\(option) wants key[=value]:Effect, got \(text)") }
    return Taint(key: key, value: kv.count == 2 ? kv[1] : nil, effect: String(text[text.index(after: colon)...]))
}

/// `-o table|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Writes a line to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Encodes a value as pretty, key-sorted JSON (the `-o json` form of every command).
func jsonText<T: Encodable>(_ value: T) throws -> String {
    try ValueEncoder().encode(value).prettyPrinted()
}

/// Key–value lines with the values aligned.
func aligned(_ rows: [(String, String)]) -> String {
    let width = (rows.map { $0.0.count }.max() ?? 0) + 2
    return rows.map { k, v in (k + ":").padding(toLength: width, withPad: " ", startingAt: 0) + v }
        .joined(separator: "\n")
}

/// A failure of a command, printed as one line (`Error: …`) with exit code 1 — unlike
/// ArgumentParser's `ValidationError`, which adds the usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
