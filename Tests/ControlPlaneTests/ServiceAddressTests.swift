import ClusterModel
import ControlPlane
import Testing

/// kube-apiserver's Service address allocation: ClusterIPs from 10.96.0.0/12 and node ports from
/// 30000-32767, chosen from the seed and revision, kept across updates, refused when taken.
@Suite struct ServiceAddressTests {
    func service(_ name: String, type: String? = nil, clusterIP: String? = nil, nodePort: Int32? = nil) -> Service {
        var port = ServicePort(port: 80)
        port.nodePort = nodePort
        var spec = ServiceSpec(selector: ["app": name], ports: [port])
        spec.type = type
        spec.clusterIP = clusterIP
        return Service(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec)
    }

    @Test func addressesAreAllocatedFromTheRangesAndTheSameForTheSameSeed() async throws {
        var first: [String] = []
        for _ in 0..<2 {
            let f = try await Fixture(seed: 42)
            let web = try await f.store.create(service("web", type: "NodePort"), by: alice)
            let ip = try #require(web.spec?.clusterIP)
            #expect(ip.hasPrefix("10.") && web.spec?.clusterIPs == [ip] && web.spec?.ipFamilies == ["IPv4"])
            let octets = ip.split(separator: ".").compactMap { Int($0) }
            #expect(octets[1] >= 96 && octets[1] < 112, "\(ip) is outside 10.96.0.0/12")
            let nodePort = try #require(web.spec?.ports?.first?.nodePort)
            #expect((30000...32767).contains(nodePort))
            let headless = try await f.store.create(service("db", clusterIP: "None"), by: alice)
            #expect(headless.spec?.clusterIP == "None")
            if first.isEmpty { first = [ip, String(nodePort)] } else { #expect(first == [ip, String(nodePort)]) }
            // An update that leaves the addresses out keeps them.
            var edited = service("web", type: "NodePort")
            edited.spec?.selector = ["app": "web2"]
            let updated = try await f.store.update(edited, by: alice)
            #expect(updated.spec?.clusterIP == ip && updated.spec?.ports?.first?.nodePort == nodePort)
        }
    }

    @Test func addressesInUseAreRefusedWithKubernetesMessages() async throws {
        let f = try await Fixture()
        _ = try await f.store.create(service("a", type: "NodePort", clusterIP: "10.96.0.10", nodePort: 30080), by: alice)
        await #expect(throws: StatusError.self) { _ = try await f.store.create(service("b", clusterIP: "10.96.0.10"), by: alice) }
        do {
            _ = try await f.store.create(service("b", clusterIP: "10.96.0.10"), by: alice)
        } catch {
            #expect(error.message == "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: failed to allocate IP 10.96.0.10: provided IP is already allocated")
        }
        do {
            _ = try await f.store.create(service("c", type: "NodePort", nodePort: 30080), by: alice)
            Issue.record("a taken node port was accepted")
        } catch {
            #expect(error.message == "Service \"c\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated")
        }
        do {
            _ = try await f.store.create(service("d", clusterIP: "192.168.0.1"), by: alice)
            Issue.record("an address outside the range was accepted")
        } catch {
            #expect(error.message.contains("is not in the valid range"))
        }
        // Changing an allocated address is refused.
        var moved = service("a", type: "NodePort", clusterIP: "10.96.0.11", nodePort: 30080)
        moved.metadata.namespace = "default"
        await #expect(throws: StatusError.self) { _ = try await f.store.update(moved, by: alice) }
    }
}
