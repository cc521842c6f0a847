import Foundation
import NIOSSL

/// What `kj serve` allows each client, with kube-apiserver's defaults where it has them.
///
/// | limit | default | kube-apiserver |
/// |---|---|---|
/// | `tlsMinimumVersion` | TLS 1.2 | `--tls-min-version` (TLS 1.2) |
/// | `maxRequestsInflight` | 400 | `--max-requests-inflight` |
/// | `maxMutatingRequestsInflight` | 200 | `--max-mutating-requests-inflight` |
/// | `minRequestTimeout` | 1800 s | `--min-request-timeout` |
/// | `readHeaderTimeout` | 32 s | `http.Server.ReadHeaderTimeout` (also its TLS handshake deadline) |
/// | `readTimeout` | 60 s | `--request-timeout` |
/// | `idleTimeout` | 90 s | `http.Server.IdleTimeout` |
/// | `maxConnections` | 10,000 | none: Go is bounded by the file limit, which it raises to the hard limit |
/// | `watchWindow` | 0 (any revision) | the watch cache's window (`--default-watch-cache-size`) and etcd's compaction |
public struct ServerLimits: Sendable, Equatable {
    /// The oldest TLS version a client may speak.
    public var tlsMinimumVersion: TLSVersion = .tlsv12
    /// Non-mutating requests (get, list) served at once; further ones get 429. Watches are
    /// long-running and not counted. Members of `system:masters` are never refused, as in
    /// kube-apiserver. 0: no limit.
    public var maxRequestsInflight = 400
    /// Mutating requests (create, update, patch, delete) served at once; 0: no limit.
    public var maxMutatingRequestsInflight = 200
    /// A watch without `timeoutSeconds` ends after between this and twice this many seconds
    /// (spread, so that reconnecting clients do not arrive together).
    public var minRequestTimeout = 1800
    /// From accepting a connection to the end of its first request's header (TLS handshake included).
    public var readHeaderTimeout: Duration = .seconds(32)
    /// From a request's header to the end of its body.
    public var readTimeout: Duration = .seconds(60)
    /// How long a connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(90)
    /// Connections open at once; beyond it a new connection is closed at once. `kj serve` lowers it
    /// to what its file limit leaves room for.
    public var maxConnections = 10_000
    /// How many revisions behind the head a watch may start: an older `resourceVersion` is
    /// answered with an `ERROR` event of `410 Expired` ("too old resource version"), as
    /// kube-apiserver answers a watch from before its watch cache's window or etcd's compaction, and
    /// the client lists again. 0: any revision (the journal keeps every event, so a watch resumes
    /// from anywhere).
    public var watchWindow: UInt64 = 0

    public init() {}

    /// Descriptors kept free of connections, for the journal, logs and the files the server opens.
    static let reservedDescriptors = 128

    /// Raises the process' soft file limit to its hard limit (as Go's runtime does for
    /// kube-apiserver) and returns the connections that leaves room for.
    static func connectionsTheFileLimitAllows() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur != rlim_t.max else { return Int.max }  // RLIM_INFINITY
        return max(1, Int(clamping: limit.rlim_cur) - reservedDescriptors)
    }
}
