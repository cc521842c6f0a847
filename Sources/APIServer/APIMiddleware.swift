import ClusterModel
import ControlPlane
import Foundation
import Hummingbird
import Logging
import Synchronization

// The request path of `kj serve`, as Hummingbird middleware in kube-apiserver's filter order:
// request info, then logging and metrics (which see every answer, refusals included), then
// authentication from the headers and the max-in-flight limit, and only then the body is read
// and the request handled (`KubeRoutes`).

/// What the middleware learn about a request and hand on.
struct KubeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Kubernetes' view of the request (set by `RequestInfoMiddleware`).
    var info = RequestInfo.unknown
    /// The authenticated user (set by `AuthenticationMiddleware`).
    var user: UserInfo?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// A request as kube-apiserver's `RequestInfo` describes it: path and query, verb and resource,
/// and whether it is long-running (a watch, or a followed journal stream).
struct RequestInfo: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or the
    /// lower-case method for paths that are not resources.
    var verb: String
    var resource: String

    init(method: String, target: String) {
        self.method = method
        (path, query) = APIRequest.split(target: target)
        (verb, resource) = KubeAPI.classify(method: method, path: path, query: query)
    }

    private init(method: String, path: String, query: [String: String], verb: String, resource: String) {
        (self.method, self.path, self.query, self.verb, self.resource) = (method, path, query, verb, resource)
    }

    /// Before `RequestInfoMiddleware` has looked.
    static let unknown = RequestInfo(method: "", path: "", query: [:], verb: "", resource: "")

    /// Requests that may last as long as the client wants; the in-flight limit does not count them.
    var longRunning: Bool {
        verb == "watch" || (path.hasPrefix("/\(JournalEndpoints.prefix)/") && query["follow"].map(QueryParameter.bool) == true)
    }

    /// Everything but get, list and watch counts against the mutating limit.
    var mutating: Bool { !["get", "list", "watch"].contains(verb) }
}

struct RequestInfoMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        context.info = RequestInfo(method: request.method.rawValue, target: request.uri.string)
        return try await next(request, context)
    }
}

/// One log line per request: writes and refusals at info (like an audit log), reads at debug.
struct RequestLogMiddleware: RouterMiddleware {
    let logger: Logger
    let api: KubeAPI

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func log(_ status: HTTPResponse.Status) {
            let info = context.info
            let level: Logger.Level = info.mutating || status.code >= 400 ? .info : .debug
            logger.log(level: level, "request", metadata: [
                "verb": .string(info.verb), "resource": .string(info.resource), "path": .string(info.path),
                "code": .stringConvertible(status.code),
                "user": .string(api.authenticate(authorization: request.headers[.authorization])?.name ?? "anonymous"),
                "ms": .stringConvertible((ContinuousClock.now - started) / .milliseconds(1)),
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status)
            throw error
        }
    }
}

/// `apiserver_request_total` and `apiserver_request_duration_seconds`.
struct RequestMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func record(_ status: HTTPResponse.Status) {
            metrics.request(verb: context.info.verb, resource: context.info.resource, code: status.code,
                            seconds: (ContinuousClock.now - started) / .seconds(1))
        }
        do {
            let response = try await next(request, context)
            record(response.status)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status)
            throw error
        }
    }
}

/// Bearer tokens, checked from the headers alone: a request without a valid one is answered 401
/// before a byte of its body is read.
struct AuthenticationMiddleware: RouterMiddleware {
    let api: KubeAPI

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        guard !KubeAPI.isPublic(path: context.info.path) else { return try await next(request, context) }
        guard let user = api.authenticate(authorization: request.headers[.authorization]) else {
            throw StatusError(.unauthorized, "Unauthorized")
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }
}

/// kube-apiserver's max-in-flight filter: at most `mutating` mutating and `nonMutating` other
/// requests at once (0: no limit); watches are not counted. Beyond the limit: 429 with
/// `Retry-After: 1`, unless the user is in `system:masters`, who is always answered.
struct MaxInFlightMiddleware: RouterMiddleware {
    let nonMutating: InFlight
    let mutating: InFlight

    init(limits: ServerLimits) {
        nonMutating = InFlight(limit: limits.maxRequestsInflight)
        mutating = InFlight(limit: limits.maxMutatingRequestsInflight)
    }

    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        guard !context.info.longRunning else { return try await next(request, context) }
        let counter = context.info.mutating ? mutating : nonMutating
        guard counter.enter() else {
            if context.user?.groups.contains("system:masters") == true { return try await next(request, context) }
            return KubeStatus.tooManyRequestsResponse
        }
        defer { counter.leave() }
        return try await next(request, context)
    }
}

/// Requests being served against a limit (0: none).
final class InFlight: Sendable {
    let limit: Int
    private let count = Atomic(0)

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        let now = count.wrappingAdd(1, ordering: .relaxed).newValue
        guard limit > 0, now > limit else { return true }
        count.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.subtract(1, ordering: .relaxed) }
}

extension APIResponse {
    /// The HTTP response.
    var response: Response {
        switch self {
        case .json(let code, let value):
            Response(status: .init(code: code), headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
        case .document(let code, let value, let type):
            Response(status: .init(code: code), headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
        case .text(let code, let text, let type):
            Response(status: .init(code: code), headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .bytes(let code, let bytes, let type):
            Response(status: .init(code: code), headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let chunks):
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                try await chunks.run { try await writer.write(ByteBuffer(bytes: $0)) }
                try await writer.finish(nil)
            })
        }
    }
}

extension KubeStatus {
    /// kube-apiserver's answer when the in-flight limit is reached (its text, as a `Status`).
    static var tooManyRequestsResponse: Response {
        let status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
            "details": ["retryAfterSeconds": 1], "code": 429,
        ]
        return Response(status: .tooManyRequests, headers: [.contentType: "application/json", .retryAfter: "1"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: status.serialized())))
    }
}
