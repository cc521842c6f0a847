import ClusterModel
import Foundation

/// Reads a `kj serve`'s journal endpoints (`/kj/v1/…`) — what `kj … --server URL` uses instead of
/// opening the journal — and injects faults (`kj fault`, `kj node`), as the user of a kubeconfig.
public struct JournalClient: Sendable {
    let client: KubeClient

    /// The server's address.
    public var baseURL: String { client.server }

    /// `server` (https://host:port), else the server of the kubeconfig's current context, with
    /// that context's credentials and CA (`kubeconfig`, else `$KUBECONFIG`, else
    /// `~/.kube/config`; with `server` given, no kubeconfig is fine for a public server).
    public init(server: String?, kubeconfig: String?) throws {
        var connection: Connection
        do {
            connection = try Kubeconfig.load(kubeconfig).connection(context: nil)
        } catch let error where server != nil && kubeconfig == nil && error.code == .configuration {
            connection = Connection(server: "")
        } catch {
            throw server == nil && kubeconfig == nil
                ? KubeClientError(.configuration, "no server: give --server https://HOST:PORT, or a kubeconfig (--kubeconfig, $KUBECONFIG) whose current context names one (\(error))")
                : error
        }
        if let server { connection.server = server }
        guard let url = URL(string: connection.server), url.scheme == "https", url.host != nil else {
            throw KubeClientError(.configuration, "--server wants https://HOST:PORT, got \(connection.server)")
        }
        client = try KubeClient(connection)
    }

    /// GETs `path` (with its query): the status and the body.
    public func get(_ path: String) async throws -> (status: Int, body: [UInt8]) {
        try await client.send("GET", path)
    }

    /// POSTs a JSON body to `path`: the status and the body of the answer.
    public func post(_ path: String, json: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        try await client.send("POST", path, body: json)
    }

    /// GETs a stream of JSON lines (`?follow=1`) and hands each to `line` until the server ends it.
    public func follow(_ path: String, _ line: (JSONValue) async throws -> Void) async throws {
        try await client.stream(path, deadline: nil) { value in
            try await line(value)
            return true
        }
    }

    /// GETs a JSON document and decodes it; a non-200 answer becomes its `Status` message.
    public func fetch<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
        let (status, body) = try await get(path)
        guard status == 200 else {
            throw KubeClientError(.status, (try? JSONValue.parse(body))?["message"]?.stringValue ?? "\(baseURL) answered \(status)", httpStatus: status)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw KubeClientError(.malformed, "unexpected answer from \(baseURL)\(path): \(error)")
        }
    }

    /// Closes the connections.
    public func shutdown() async { await client.shutdown() }

    /// What `body` makes of a client of `server` (see `init`), which is closed after.
    public static func with<T>(server: String?, kubeconfig: String?, _ body: (JournalClient) async throws -> T) async throws -> T {
        let client = try JournalClient(server: server, kubeconfig: kubeconfig)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// A path with its query, percent-encoded.
    public static func path(_ path: String, _ query: [(String, String?)]) -> String {
        var c = URLComponents()
        c.path = path
        let items = query.compactMap { k, v in v.map { URLQueryItem(name: k, value: $0) } }
        if !items.isEmpty { c.queryItems = items }
        return c.string ?? path
    }
}
