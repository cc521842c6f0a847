import ClusterModel
import ControlPlane
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The API as a Hummingbird router: a route group per API group-version the resource registry
/// serves, with each kind's collection, object and subresource paths and the verbs they take;
/// discovery, OpenAPI, health, metrics and the journal endpoints beside them. A path that matches
/// no route is kube-apiserver's 404 `Status` (`NotFoundStatusMiddleware`); a method a path does
/// not take is its 405.
enum KubeRoutes {
    /// What a route does with a request: the request as the API sees it, and the path's parameters.
    typealias Handler = @Sendable (APIRequest, Parameters) async throws(StatusError) -> APIResponse

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// The router, with `middleware` (outermost first) around every route, then the audit log's
    /// when there is one.
    static func router(api: KubeAPI, middleware: some MiddlewareProtocol<Request, Response, KubeRequestContext>, audit: AuditBackend? = nil) -> Router<KubeRequestContext> {
        let router = Router(context: KubeRequestContext.self)
        router.add(middleware: middleware)
        if let audit { router.add(middleware: AuditMiddleware(backend: audit)) }
        router.add(middleware: NotFoundStatusMiddleware())
        let routes = RouteTable(router: router)
        addServerPaths(routes, api: api)
        addDiscovery(routes, api: api)
        for groupVersion in Discovery.groupVersions {
            let group = RouteTable(router: router.group(RouterPath(groupVersion == "v1" ? "api/v1" : "apis/" + groupVersion)))
            for kind in Discovery.kinds(in: groupVersion) { addResource(kind, group, api: api) }
        }
        return router
    }

    // MARK: resources

    /// A kind's paths in its group-version's routes: its collection (and, namespaced, its
    /// collection across namespaces), each object, and each of its subresources.
    static func addResource(_ kind: ResourceKind, _ routes: RouteTable, api: KubeAPI) {
        let plural = kind.plural
        let collection = kind.namespaced ? "namespaces/:namespace/\(plural)" : plural
        // A namespace's own path is where other kinds' namespace is: the parameter has one name there.
        let name = kind == .namespace ? "namespace" : "name"
        func serve(_ verb: KubeAPI.Verb, subresource: String? = nil) -> Handler {
            { r, parameters throws(StatusError) in
                let target = KubeAPI.Target(kind: kind, namespace: kind.namespaced ? parameters.get("namespace") : nil,
                                            name: parameters.get(name), subresource: subresource)
                return try await api.serve(verb, r, target)
            }
        }
        if kind.namespaced { routes.add(plural, [.get: serve(.list)]) }
        routes.add(collection, [.get: serve(.list), .post: serve(.create), .delete: serve(.deleteCollection)])
        routes.add("\(collection)/:\(name)", [.get: serve(.get), .put: serve(.update), .patch: serve(.patch), .delete: serve(.delete)])
        for subresource in kind.definition.subresources {
            let sub = subresource.rawValue
            let verbs: [HTTPRequest.Method: Handler] = switch subresource {
            case .status, .scale: [.get: serve(.get, subresource: sub), .put: serve(.update, subresource: sub), .patch: serve(.patch, subresource: sub)]
            case .binding, .eviction: [.post: serve(.create, subresource: sub)]
            }
            routes.add("\(collection)/:\(name)/\(sub)", verbs)
        }
    }

    // MARK: discovery

    static func addDiscovery(_ routes: RouteTable, api: KubeAPI) {
        routes.add("api", [.get: { r, _ in
            r.wantsAggregatedDiscovery
                ? .document(200, Discovery.aggregated(core: true), contentType: Discovery.aggregatedType)
                : .json(200, Discovery.apiVersions(serverAddress: api.serverAddress))
        }])
        routes.add("api/v1", [.get: { _, _ in .json(200, Discovery.resourceList("v1")) }])
        routes.add("apis", [.get: { r, _ in
            r.wantsAggregatedDiscovery
                ? .document(200, Discovery.aggregated(core: false), contentType: Discovery.aggregatedType)
                : .json(200, Discovery.groupList)
        }])
        for (group, version) in Discovery.groups {
            routes.add("apis/\(group)", [.get: { _, _ in .json(200, Discovery.group(group, version: version)) }])
            routes.add("apis/\(group)/\(version)", [.get: { _, _ in .json(200, Discovery.resourceList(group + "/" + version)) }])
        }
        // authorization.k8s.io: the access reviews, answered from the authorization itself.
        let reviews = "apis/" + AccessReview.groupVersion
        routes.add("apis/authorization.k8s.io", [.get: { _, _ in .json(200, Discovery.group("authorization.k8s.io", version: "v1")) }])
        routes.add(reviews, [.get: { _, _ in .json(200, AccessReview.resourceList) }])
        routes.add("\(reviews)/\(AccessReview.plural)", [.post: { r, _ throws(StatusError) in
            .json(201, try AccessReview.answer(try KubeAPI.body(r), for: r.user!))
        }])
        routes.add("\(reviews)/\(AccessReview.rulesPlural)", [.post: { r, _ throws(StatusError) in
            .json(201, AccessReview.rules(try KubeAPI.body(r), for: r.user!))
        }])
        // OpenAPI: v2 whole, v3 per group-version.
        routes.add("openapi/v2", [.get: { r, _ in
            // kubectl asks for protobuf (and nothing else); others get JSON.
            r.headers["accept"]?.contains(OpenAPIv2Protobuf.acceptedSubtype) == true
                ? .bytes(200, OpenAPIv2Protobuf.document, contentType: OpenAPIv2Protobuf.contentType) : .json(200, Discovery.openAPIv2)
        }])
        routes.add("openapi/v3", [.get: { _, _ in .json(200, Discovery.openAPIIndex) }])
        for groupVersion in Discovery.groupVersions {
            routes.add("openapi/v3/" + Discovery.openAPIPath(groupVersion), [.get: { _, _ in .json(200, Discovery.openAPIDocument(groupVersion)) }])
        }
    }

    // MARK: the server's own paths

    static func addServerPaths(_ routes: RouteTable, api: KubeAPI) {
        routes.add("version", [.get: { _, _ in .json(200, Discovery.version) }])
        for health in ["healthz", "livez", "readyz"] {
            routes.add(health, [.get: { _, _ in .text(200, "ok", contentType: "text/plain") }])
        }
        routes.add("metrics", [.get: { _, _ in
            .text(200, await api.metrics.exposition(store: api.store), contentType: "text/plain; version=0.0.4")
        }])
        routes.add("\(JournalEndpoints.prefix)/v1/faults", [.post: { r, _ throws(StatusError) in try await api.faults.inject(r) }])
        routes.add("\(JournalEndpoints.prefix)/**", [.get: { r, parameters throws(StatusError) in
            try await api.queries.handle(r, segments: parameters.getCatchAll().map(String.init))
        }])
    }
}

/// Adds routes to a router or one of its groups: each path with the methods it takes, and
/// kube-apiserver's 405 for the others.
struct RouteTable {
    let router: any RouterMethods<KubeRequestContext>

    func add(_ path: String, _ handlers: [HTTPRequest.Method: KubeRoutes.Handler]) {
        for method in KubeRoutes.methods {
            let handler = handlers[method] ?? Self.methodNotAllowed
            router.on(RouterPath(path), method: method) { request, context in
                try await Self.answer(request, context, handler)
            }
        }
    }

    static let methodNotAllowed: KubeRoutes.Handler = { _, _ throws(StatusError) in
        throw StatusError(.methodNotAllowed, "the server does not allow this method on the requested resource")
    }

    /// Reads the body (at most `KubeAPI.maxBodyBytes`), lets `handler` answer, and writes the answer.
    /// A failure is thrown as the `StatusError` it is, which Hummingbird's error protocol renders.
    static func answer(_ request: Request, _ context: KubeRequestContext, _ handler: KubeRoutes.Handler) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let tooLarge = StatusError(.tooLarge, "Request entity too large: limit is \(KubeAPI.maxBodyBytes)")
        // A declared length over the limit is refused before any of it is read.
        if let declared = headers["content-length"].flatMap(Int.init), declared > KubeAPI.maxBodyBytes { throw tooLarge }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: KubeAPI.maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw StatusError(.badRequest, "the request body could not be read: \(error)")
        }
        let info = context.info
        let apiRequest = APIRequest(method: info.method, path: info.path, query: info.query, headers: headers,
                                    body: Array(body.readableBytesView), user: context.user)
        return try await handler(apiRequest, context.parameters).response
    }
}

/// The router's answer for a path no route matches, as kube-apiserver gives it: a 404 `Status`.
struct NotFoundStatusMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: KubeRequestContext, next: (Request, KubeRequestContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw StatusError(.notFound, "the server could not find the requested resource")
        }
    }
}
