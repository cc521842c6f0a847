import Foundation

private typealias T = ResourceTable

/// discovery.k8s.io/v1 EndpointSlice: a Service's endpoints, as kube-proxy and kubectl 1.32 read them.
public struct EndpointSlice: Resource {
    public static let kind = "EndpointSlice", apiVersion = "discovery.k8s.io/v1", plural = "endpointslices", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String
    public var endpoints: [SliceEndpoint]?
    public var ports: [SlicePort]?

    public init(metadata: ObjectMeta, addressType: String, endpoints: [SliceEndpoint], ports: [SlicePort]?) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    /// The label naming a slice's Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// The label naming the controller that manages a slice.
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"

    public func withStatus(of other: EndpointSlice) -> EndpointSlice { self }
    public func sameSpec(as other: EndpointSlice) -> Bool { (addressType, endpoints, ports) == (other.addressType, other.endpoints, other.ports) }

    public static let definition = KindDefinition(
        EndpointSlice.self, columns: [T.name, T.col("AddressType"), T.col("Ports"), T.col("Endpoints"), T.ageColumn]
    ) { s, now in
        let ports = (s.ports ?? []).map { $0.port.map(String.init) ?? "<unset>" }
        let addresses = (s.endpoints ?? []).flatMap(\.addresses)
        return [s.metadata.name ?? "", s.addressType, ports.isEmpty ? "<unset>" : ports.joined(separator: ","),
                addresses.isEmpty ? "<unset>" : T.firstThree(addresses), T.age(s.metadata.creationTimestamp, now: now)]
    }
}

public struct SliceEndpoint: Codable, Sendable, Equatable {
    public var addresses: [String]
    public var conditions: EndpointConditions?
    public var hostname: String?
    public var targetRef: ObjectReference?
    public var nodeName: String?
    public var zone: String?
    public var hints: JSONValue?

    public init(addresses: [String], conditions: EndpointConditions?, nodeName: String?, targetRef: ObjectReference?) {
        self.addresses = addresses
        self.conditions = conditions
        self.nodeName = nodeName
        self.targetRef = targetRef
    }
}

public struct EndpointConditions: Codable, Sendable, Equatable {
    public var ready: Bool?
    public var serving: Bool?
    public var terminating: Bool?

    public init(ready: Bool?, serving: Bool?, terminating: Bool?) {
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
}

public struct SlicePort: Codable, Sendable, Equatable {
    public var name: String?
    public var `protocol`: String?
    public var port: Int32?
    public var appProtocol: String?

    public init(name: String?, protocol proto: String?, port: Int32?) {
        self.name = name
        self.protocol = proto
        self.port = port
    }
}

/// networking.k8s.io/v1 Ingress: HTTP routes to Services (stored; no ingress controller runs).
public struct Ingress: Resource {
    public static let kind = "Ingress", apiVersion = "networking.k8s.io/v1", plural = "ingresses", namespaced = true
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: IngressSpec?
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: IngressSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: Ingress) -> Ingress {
        var copy = self
        copy.status = other.status
        return copy
    }

    public func sameSpec(as other: Ingress) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        Ingress.self, shortNames: ["ing"], subresources: [.status],
        columns: [T.name, T.col("Class"), T.col("Hosts"), T.col("Address"), T.col("Ports"), T.ageColumn]
    ) { i, now in
        let hosts = (i.spec?.rules ?? []).compactMap(\.host)
        let addresses = (i.status?["loadBalancer"]?["ingress"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
        return [i.metadata.name ?? "", i.spec?.ingressClassName ?? "<none>", hosts.isEmpty ? "*" : T.firstThree(hosts),
                addresses.joined(separator: ","), (i.spec?.tls ?? []).isEmpty ? "80" : "80, 443", T.age(i.metadata.creationTimestamp, now: now)]
    }
}

public struct IngressSpec: Codable, Sendable, Equatable {
    public var ingressClassName: String?
    public var defaultBackend: IngressBackend?
    public var tls: [IngressTLS]?
    public var rules: [IngressRule]?

    public init(rules: [IngressRule]?) { self.rules = rules }
}

public struct IngressTLS: Codable, Sendable, Equatable {
    public var hosts: [String]?
    public var secretName: String?
}

public struct IngressRule: Codable, Sendable, Equatable {
    public var host: String?
    public var http: HTTPIngressRuleValue?
}

public struct HTTPIngressRuleValue: Codable, Sendable, Equatable {
    public var paths: [HTTPIngressPath]
}

public struct HTTPIngressPath: Codable, Sendable, Equatable {
    public var path: String?
    /// `Exact`, `Prefix` or `ImplementationSpecific`.
    public var pathType: String?
    public var backend: IngressBackend
}

public struct IngressBackend: Codable, Sendable, Equatable {
    public var service: IngressServiceBackend?
    public var resource: JSONValue?
}

public struct IngressServiceBackend: Codable, Sendable, Equatable {
    public var name: String
    public var port: ServiceBackendPort?
}

public struct ServiceBackendPort: Codable, Sendable, Equatable {
    public var name: String?
    public var number: Int32?
}

/// networking.k8s.io/v1 IngressClass: which controller implements a class of Ingresses.
public struct IngressClass: Resource {
    public static let kind = "IngressClass", apiVersion = "networking.k8s.io/v1", plural = "ingressclasses", namespaced = false
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: IngressClassSpec?

    public init(metadata: ObjectMeta, spec: IngressClassSpec) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func withStatus(of other: IngressClass) -> IngressClass { self }
    public func sameSpec(as other: IngressClass) -> Bool { spec == other.spec }

    public static let definition = KindDefinition(
        IngressClass.self, columns: [T.name, T.col("Controller"), T.col("Parameters"), T.ageColumn]
    ) { c, now in
        let p = c.spec?.parameters
        let parameters = p.map { p in "\(p["kind"]?.stringValue ?? "")/\(p["name"]?.stringValue ?? "")" } ?? "<none>"
        return [c.metadata.name ?? "", c.spec?.controller ?? "", parameters, T.age(c.metadata.creationTimestamp, now: now)]
    }
}

public struct IngressClassSpec: Codable, Sendable, Equatable {
    public var controller: String?
    public var parameters: JSONValue?

    public init(controller: String?) { self.controller = controller }
}
