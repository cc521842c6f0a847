import AsyncHTTPClient
import ClusterModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client of a Kubernetes API server over HTTPS (AsyncHTTPClient): JSON reads and watch
/// streams, authenticated as a kubeconfig's user (bearer token, client certificate or basic).
public final class KubeClient: Sendable {
    /// `https://host:port`, without a trailing slash.
    public let server: String
    private let http: HTTPClient
    private let authorization: String?

    /// `connections`: how many requests may be open at once; each watch holds one connection for
    /// as long as it lasts (over HTTP/1.1), so a client of many watches needs as many.
    public init(_ connection: Connection, connections: Int = 8) throws(KubeClientError) {
        guard let url = URL(string: connection.server), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw KubeClientError(.configuration, "the server must be https://HOST:PORT, got \(connection.server)")
        }
        server = connection.server.hasSuffix("/") ? String(connection.server.dropLast()) : connection.server
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = connection.caPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca)) }
            if let certificate = connection.clientCertificatePEM, let key = connection.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeClientError(.configuration, "the kubeconfig's certificates do not read: \(error)")
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        // A watch closed by the client is mid-response: the server answers the close late or never,
        // so waiting the default 5 s for it only delays the end.
        tls.shutdownTimeout = .milliseconds(500)
        if let token = connection.token {
            authorization = "Bearer " + token
        } else if let basic = connection.basic {
            authorization = "Basic " + Data("\(basic.user):\(basic.password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the client's connections; call once, when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// GETs `path` (with its query) and decodes the JSON answer; a failure answer becomes a
    /// `.status` error with the `Status` object's message and reason, and a cancelled task a
    /// `CancellationError`.
    public func get(_ path: String, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        let (status, bytes) = try await send("GET", path, timeout: timeout)
        guard (200..<300).contains(status) else { throw Self.statusError(status, bytes, path) }
        return try Self.decode(bytes, path)
    }

    /// Sends a request (`body`: JSON) and returns the answer's status and body, whatever the status.
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil, timeout: Duration = .seconds(60)) async throws -> (status: Int, body: [UInt8]) {
        var request = request(path)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: TimeAmount(timeout))
            var answer = try await response.body.collect(upTo: 1 << 30)
            return (Int(response.status.code), answer.readBytes(length: answer.readableBytes) ?? [])
        } catch {
            throw Self.failure(error, "\(method) \(server)\(path)")
        }
    }

    /// `error` as the caller should see it: a cancellation as one, whatever the HTTP client made of it.
    private static func failure(_ error: any Error, _ description: String) -> any Error {
        Task.isCancelled || error is CancellationError ? CancellationError() : KubeClientError(.unreachable, "\(description): \(error)")
    }

    /// GETs a streamed answer (a watch, a followed event stream) and hands each JSON line to
    /// `line`, until the server ends it, `line` returns false, or `deadline` passes (nil: never).
    /// A failure answer throws as `get` does.
    public func stream(_ path: String, deadline: Duration?, _ line: (JSONValue) async throws -> Bool) async throws {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request(path), deadline: deadline.map { .now() + TimeAmount($0) } ?? .distantFuture)
        } catch {
            throw Self.failure(error, "GET \(server)\(path)")
        }
        guard response.status.code == 200 else {
            var body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            throw Self.statusError(Int(response.status.code), body.readBytes(length: body.readableBytes) ?? [], path)
        }
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending += chunk.readableBytesView
                var start = 0
                while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let text = pending[start..<end]
                    start = end + 1
                    if text.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                    guard try await line(try Self.decode(Array(text), path)) else { return }
                }
                pending.removeFirst(start)
            }
        } catch let error as KubeClientError {
            throw error
        } catch {
            throw Self.failure(error, "watch \(server)\(path) broke")
        }
    }

    private func request(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: server + path)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "kj/v1.32.0-kubejournal")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    private static func decode(_ bytes: [UInt8], _ path: String) throws(KubeClientError) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw KubeClientError(.malformed, "\(path): the answer is not JSON: \(error)")
        }
    }

    /// The error a failure answer stands for: its `Status` message and reason when it has one.
    static func statusError(_ code: Int, _ body: [UInt8], _ path: String) -> KubeClientError {
        let status = try? JSONValue.parse(body)
        let message = status?["message"]?.stringValue ?? String(decoding: body.prefix(200), as: UTF8.self)
        return KubeClientError(.status, "\(path): \(code) \(message)", httpStatus: code, reason: status?["reason"]?.stringValue)
    }
}
