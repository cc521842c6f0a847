import Foundation
import Logging

/// Bearer tokens from a Kubernetes static token file: one `token,user,uid,"group1,group2"` per
/// line (groups optional; `#` starts a comment).
public struct TokenFile: Sendable {
    public private(set) var users: [String: UserInfo] = [:]

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(text: String, path: String = "token file") throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = Self.csvFields(line)
            guard fields.count >= 3, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ReadError(description: "\(path):\(n + 1): expected token,user,uid[,\"group1,group2\"]")
            }
            let groups = fields.count > 3 ? fields[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : []
            users[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups)
        }
    }

    public static func load(_ path: String) throws -> TokenFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(description: "cannot read token file \(path)") }
        return try TokenFile(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Fields of one CSV line; double quotes protect commas.
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        for c in line {
            switch c {
            case "\"": quoted.toggle()
            case "," where !quoted:
                fields.append(current)
                current = ""
            default: current.append(c)
            }
        }
        fields.append(current)
        return fields
    }

    /// The user a request's `Authorization: Bearer …` header names, if any.
    public func authenticate(_ authorization: String?) -> UserInfo? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        return users[authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)]
    }

    /// A new random token (256 bits, hex).
    public static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined()
    }
}

/// The files `kj serve` keeps beside a journal: the token file it made and the kubeconfig that
/// uses its admin token.
public struct ServeFiles: Sendable {
    public let directory: String
    public init(journal: String) { directory = journal }

    public var tokens: String { directory + "/tokens.csv" }
    public var kubeconfig: String { directory + "/kubeconfig" }
    var caCertificate: String { directory + "/ca.crt" }
    var caKey: String { directory + "/ca.key" }

    /// Creates the token file with an admin (group `system:masters`) if there is none.
    public func ensureTokens() throws -> Bool {
        guard !FileManager.default.fileExists(atPath: tokens) else { return false }
        let text = "# token,user,uid,\"groups\" — members of \(UserInfo.viewersGroup) may only read\n"
            + "\(TokenFile.newToken()),admin,admin,\"system:masters\"\n"
        try writePrivate(text, to: tokens)
        return true
    }

    /// Writes a kubeconfig for `server` (trusting `caPEM`) with the first `system:masters` user's token.
    func writeKubeconfig(server: String, caPEM: String, tokens file: TokenFile) throws {
        guard let (token, user) = file.users.sorted(by: { $0.key < $1.key }).first(where: { $0.value.groups.contains("system:masters") }) else {
            throw TokenFile.ReadError(description: "the token file has no user in group system:masters to write a kubeconfig for")
        }
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: kubejournal
              cluster:
                server: \(server)
                certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
            users:
            - name: \(user.name)
              user:
                token: \(token)
            contexts:
            - name: kubejournal
              context:
                cluster: kubejournal
                user: \(user.name)
                namespace: default
            current-context: kubejournal

            """
        try writePrivate(text, to: kubeconfig)
    }

    /// Writes `text` to `path`, readable and writable by its owner only from the moment it exists
    /// (an existing file is truncated and narrowed to 0600 first).
    func writePrivate(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TokenFile.ReadError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw TokenFile.ReadError(description: "cannot make \(path) private: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TokenFile.ReadError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
    }

    /// Narrows the server's files beside the journal to 0600 where an older server left them
    /// readable by others (the token file and the CA's key above all).
    func keepPrivate(logger: Logger) {
        for path in [tokens, kubeconfig, caKey, caCertificate] {
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 else { continue }
            if chmod(path, 0o600) == 0 { logger.notice("made a file private", metadata: ["file": .string(path)]) }
        }
    }
}
