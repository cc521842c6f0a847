import ClusterModel
import Journal

/// kube-apiserver's Service address allocation: a ClusterIP from the service CIDR and a node port
/// from the node-port range for each port of a NodePort or LoadBalancer Service. The address a
/// new Service gets is a function of the cluster's seed and the revision that creates it (probing
/// past addresses in use), so a replay allocates the same ones. Addresses a client asks for are
/// checked against those in use, with kube-apiserver's messages.
extension Store {
    /// `--service-cluster-ip-range`'s default: 10.96.0.0/12. Its first address is the
    /// `kubernetes` Service's.
    static let serviceNetwork: UInt32 = 10 << 24 | 96 << 16
    static let serviceNetworkSize: UInt32 = 1 << 20
    /// `--service-node-port-range`'s default.
    static let nodePorts: ClosedRange<Int32> = 30000...32767

    func allocateAddresses(_ service: Service, revision: UInt64) throws(StatusError) -> Service {
        var s = service
        var spec = s.spec ?? ServiceSpec()
        let name = s.metadata.name ?? ""
        func invalid(_ field: String, _ value: String, _ why: String) -> StatusError {
            StatusError(.invalid, "Service \"\(name)\" is invalid: \(field): Invalid value: \(value): \(why)",
                        name: name, kind: "services", causes: [.init(reason: "FieldValueInvalid", message: "Invalid value: \(value): \(why)", field: field)])
        }
        let others = state.list(.service).compactMap { current($0.key)?.0 as? Service }
        let type = spec.type ?? "ClusterIP"
        if type != "ExternalName" {
            if let asked = spec.clusterIP, !asked.isEmpty {
                if asked != "None" {
                    guard let address = Self.ipv4(asked), address >= Self.serviceNetwork, address < Self.serviceNetwork + Self.serviceNetworkSize else {
                        throw invalid("spec.clusterIPs", "[]string{\"\(asked)\"}", "failed to allocate IP \(asked): the provided IP (\(asked)) is not in the valid range. The range of valid IPs is 10.96.0.0/12")
                    }
                    if others.contains(where: { $0.spec?.clusterIP == asked }) {
                        throw invalid("spec.clusterIPs", "[]string{\"\(asked)\"}", "failed to allocate IP \(asked): provided IP is already allocated")
                    }
                }
            } else {
                let used = Set(others.compactMap { $0.spec?.clusterIP.flatMap(Self.ipv4) })
                let digest = Identifiers.bytes(seed, revision, "clusterIP")
                let start = digest.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } % (Self.serviceNetworkSize - 2)
                // Offsets 1 (the kubernetes Service) and the broadcast-like last one are never handed out.
                var offset = start + 2
                while used.contains(Self.serviceNetwork + offset) { offset = offset % (Self.serviceNetworkSize - 2) + 2 }
                spec.clusterIP = Self.text(Self.serviceNetwork + offset)
            }
            spec.clusterIPs = [spec.clusterIP!]
            if spec.clusterIP != "None" {
                spec.ipFamilies = spec.ipFamilies ?? ["IPv4"]
                spec.ipFamilyPolicy = spec.ipFamilyPolicy ?? "SingleStack"
            }
        }
        if type == "NodePort" || type == "LoadBalancer" {
            var used = Set(others.flatMap { ($0.spec?.ports ?? []).compactMap(\.nodePort) })
            var ports = spec.ports ?? []
            for i in ports.indices {
                if let asked = ports[i].nodePort {
                    guard Self.nodePorts.contains(asked) else {
                        throw invalid("spec.ports[\(i)].nodePort", "\(asked)", "provided port is not in the valid range. The range of valid ports is 30000-32767")
                    }
                    guard used.insert(asked).inserted else {
                        throw invalid("spec.ports[\(i)].nodePort", "\(asked)", "provided port is already allocated")
                    }
                    continue
                }
                let digest = Identifiers.bytes(seed, revision &+ UInt64(i) << 48, "nodePort")
                let size = UInt32(Self.nodePorts.count)
                var offset = digest.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } % size
                while used.contains(Self.nodePorts.lowerBound + Int32(offset)) { offset = (offset + 1) % size }
                ports[i].nodePort = Self.nodePorts.lowerBound + Int32(offset)
                used.insert(ports[i].nodePort!)
            }
            spec.ports = ports
        }
        s.spec = spec
        return s
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 != nil && $0! < 256 }) else { return nil }
        return parts.reduce(0) { $0 << 8 | $1! }
    }

    static func text(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)"
    }
}
