import Foundation
import Yams

/// A kubeconfig file (`kind: Config`), as kubectl and client-go read it: clusters, users and the
/// contexts that pair them.
public struct Kubeconfig: Decodable, Sendable, Equatable {
    public var clusters: [Entry<Cluster>]
    public var users: [Entry<User>]
    public var contexts: [Entry<Context>]
    public var currentContext: String?
    /// The file it was read from: relative paths in it are relative to its folder, as in client-go.
    public var path = ""

    /// What a list entry holds under its own key (`cluster`, `user`, `context`).
    public protocol Member: Decodable, Sendable, Equatable {
        static var key: String { get }
    }

    /// One named entry of `clusters`, `users` or `contexts`.
    public struct Entry<Value: Member>: Decodable, Sendable, Equatable {
        public var name: String
        public var value: Value

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            name = try c.decode(String.self, forKey: Key(stringValue: "name"))
            value = try c.decode(Value.self, forKey: Key(stringValue: Value.key))
        }
    }

    public struct Cluster: Member {
        public static let key = "cluster"
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    public struct User: Member {
        public static let key = "user"
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        /// Credentials a program makes (`exec`: aws, gke-gcloud-auth-plugin, kubelogin …) or an
        /// auth provider: named, not run.
        public var exec: Exec?
        public var authProvider: AuthProvider?

        public struct Exec: Decodable, Sendable, Equatable {
            public var command: String
        }

        public struct AuthProvider: Decodable, Sendable, Equatable {
            public var name: String
        }

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case authProvider = "auth-provider"
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }

    public struct Context: Member {
        public static let key = "context"
        public var cluster: String
        public var user: String?
        public var namespace: String?
    }

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clusters = try c.decodeIfPresent([Entry<Cluster>].self, forKey: .clusters) ?? []
        users = try c.decodeIfPresent([Entry<User>].self, forKey: .users) ?? []
        contexts = try c.decodeIfPresent([Entry<Context>].self, forKey: .contexts) ?? []
        currentContext = try c.decodeIfPresent(String.self, forKey: .currentContext)
    }

    /// Reads `path`; nil: `$KUBECONFIG`'s first file, else `~/.kube/config`.
    public static func load(_ path: String?) throws(KubeClientError) -> Kubeconfig {
        let env = ProcessInfo.processInfo.environment
        let file = path ?? env["KUBECONFIG"].flatMap { $0.split(separator: ":").first.map(String.init) } ?? (NSHomeDirectory() + "/.kube/config")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw KubeClientError(.configuration, "cannot read kubeconfig \(file)")
        }
        do {
            var config = try YAMLDecoder().decode(Kubeconfig.self, from: data)
            config.path = file
            return config
        } catch {
            throw KubeClientError(.configuration, "\(file) is not a kubeconfig: \(error)")
        }
    }

    /// Where and as whom context `name` (nil: the current context) talks to its cluster.
    public func connection(context name: String?) throws(KubeClientError) -> Connection {
        guard let contextName = name ?? currentContext else {
            throw KubeClientError(.configuration, "\(path) has no current-context; name one with --context")
        }
        guard let context = contexts.first(where: { $0.name == contextName })?.value else {
            throw KubeClientError(.configuration, "context \"\(contextName)\" is not in \(path)")
        }
        guard let cluster = clusters.first(where: { $0.name == context.cluster })?.value else {
            throw KubeClientError(.configuration, "cluster \"\(context.cluster)\" of context \"\(contextName)\" is not in \(path)")
        }
        let user = context.user.flatMap { u in users.first { $0.name == u }?.value }
        if let user, user.token == nil, user.tokenFile == nil, user.clientCertificate == nil, user.clientCertificateData == nil {
            if let exec = user.exec {
                throw KubeClientError(.configuration, "user \"\(context.user ?? "")\" of context \"\(contextName)\" gets its credentials from the program \(exec.command), which kj does not run; give it a kubeconfig with a token (kubectl create token …) or a client certificate")
            }
            if let provider = user.authProvider {
                throw KubeClientError(.configuration, "user \"\(context.user ?? "")\" of context \"\(contextName)\" authenticates through the \(provider.name) auth provider, which kj does not support; give it a kubeconfig with a token or a client certificate")
            }
        }
        var connection = Connection(server: cluster.server)
        connection.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify ?? false
        connection.caPEM = try material(cluster.certificateAuthorityData, cluster.certificateAuthority, "certificate-authority")
        connection.clientCertificatePEM = try material(user?.clientCertificateData, user?.clientCertificate, "client-certificate")
        connection.clientKeyPEM = try material(user?.clientKeyData, user?.clientKey, "client-key")
        if let token = user?.token {
            connection.token = token
        } else if let file = user?.tokenFile {
            connection.token = try material(nil, file, "tokenFile").map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        if let username = user?.username, let password = user?.password { connection.basic = (username, password) }
        return connection
    }

    /// Inline base64 data, else the file's bytes (relative to the kubeconfig's folder).
    private func material(_ data: String?, _ file: String?, _ field: String) throws(KubeClientError) -> [UInt8]? {
        if let data {
            guard let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                throw KubeClientError(.configuration, "\(path): \(field)-data is not base64")
            }
            return Array(bytes)
        }
        guard let file else { return nil }
        let resolved = file.hasPrefix("/") ? file : (path as NSString).deletingLastPathComponent + "/" + file
        guard let bytes = FileManager.default.contents(atPath: resolved) else {
            throw KubeClientError(.configuration, "\(path): cannot read \(field) \(resolved)")
        }
        return Array(bytes)
    }
}

/// Where an API server is and how to authenticate to it.
public struct Connection: Sendable {
    /// `https://host:port` (a path prefix is kept).
    public var server: String
    public var caPEM: [UInt8]?
    public var insecureSkipTLSVerify = false
    public var token: String?
    public var basic: (user: String, password: String)?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(server: String) {
        self.server = server
    }
}

/// A failure talking to an API server, by what failed.
public struct KubeClientError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The kubeconfig is missing, malformed or names what it does not hold.
        case configuration
        /// The server could not be reached, or the connection broke.
        case unreachable
        /// The server answered with a failure (`status` holds its code and reason).
        case status
        /// The server's answer is not what the API defines.
        case malformed
    }

    public var code: Code
    public var message: String
    /// For `.status`: the HTTP status and the `Status` object's reason (`Expired`, `Forbidden` …).
    public var httpStatus: Int?
    public var reason: String?

    public init(_ code: Code, _ message: String, httpStatus: Int? = nil, reason: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.reason = reason
    }

    public var description: String { message }

    /// `410 Gone`: the resourceVersion asked for is older than the server keeps (list again).
    public var isExpired: Bool { httpStatus == 410 }
}
