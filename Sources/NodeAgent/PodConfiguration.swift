import ClusterModel
import ControlPlane
import Journal

/// What a pod needs from the API before its containers can be made: the ConfigMaps and Secrets
/// its volumes mount (the kubelet's volume manager) and its environment reads (the container
/// runtime manager's `makeEnvironmentVariables`), as the kubelet words a missing one.
struct PodConfiguration {
    /// Something missing, with the kubelet's message and the object whose appearance may help.
    struct Missing: Equatable {
        var message: String
        var key: ObjectKey
    }

    let pod: Pod
    let cache: ObjectCache

    var namespace: String { pod.metadata.namespace ?? "default" }

    func key(_ kind: String, _ name: String) -> ObjectKey { ObjectKey(kind: kind, namespace: namespace, name: name) }

    /// The first volume that cannot be mounted: `MountVolume.SetUp failed for volume "v" : configmap "c" not found`.
    var unmountable: Missing? {
        for v in pod.spec.volumes ?? [] {
            if let source = v.configMap, source.optional != true, let name = source.name {
                guard let cm = cache.get(ConfigMap.self, namespace: namespace, name: name) else {
                    return Missing(message: "MountVolume.SetUp failed for volume \"\(v.name)\" : configmap \"\(name)\" not found", key: key(ConfigMap.kind, name))
                }
                let keys = Set((cm.data ?? [:]).keys).union((cm.binaryData ?? [:]).keys)
                if let item = source.items?.first(where: { !keys.contains($0.key) }) {
                    return Missing(message: "MountVolume.SetUp failed for volume \"\(v.name)\" : configmap references non-existent config key: \(item.key)",
                                   key: key(ConfigMap.kind, name))
                }
            }
            if let claim = v.persistentVolumeClaim?.claimName {
                guard let pvc = cache.get(PersistentVolumeClaim.self, namespace: namespace, name: claim) else {
                    return Missing(message: "Unable to attach or mount volumes: unmounted volumes=[\(v.name)]: error processing PVC \(namespace)/\(claim): persistentvolumeclaim \"\(claim)\" not found",
                                   key: key(PersistentVolumeClaim.kind, claim))
                }
                if pvc.status?.phase != "Bound" {
                    return Missing(message: "Unable to attach or mount volumes: unmounted volumes=[\(v.name)]: error processing PVC \(namespace)/\(claim): PVC is not bound",
                                   key: key(PersistentVolumeClaim.kind, claim))
                }
            }
            if let source = v.secret, source.optional != true, let name = source.secretName {
                guard let secret = cache.get(Secret.self, namespace: namespace, name: name) else {
                    return Missing(message: "MountVolume.SetUp failed for volume \"\(v.name)\" : secret \"\(name)\" not found", key: key(Secret.kind, name))
                }
                if let item = source.items?.first(where: { secret.data?[$0.key] == nil }) {
                    return Missing(message: "MountVolume.SetUp failed for volume \"\(v.name)\" : references non-existent secret key: \(item.key)",
                                   key: key(Secret.kind, name))
                }
            }
        }
        return nil
    }

    /// The first environment reference that cannot be resolved: `configmap "c" not found`,
    /// `couldn't find key k in ConfigMap ns/c`.
    var unresolvable: Missing? {
        for c in (pod.spec.initContainers ?? []) + pod.spec.containers {
            for from in c.envFrom ?? [] {
                if let ref = from.configMapRef, ref.optional != true, let name = ref.name,
                   cache.get(ConfigMap.self, namespace: namespace, name: name) == nil {
                    return Missing(message: "configmap \"\(name)\" not found", key: key(ConfigMap.kind, name))
                }
                if let ref = from.secretRef, ref.optional != true, let name = ref.name,
                   cache.get(Secret.self, namespace: namespace, name: name) == nil {
                    return Missing(message: "secret \"\(name)\" not found", key: key(Secret.kind, name))
                }
            }
            for variable in c.env ?? [] {
                if let ref = variable.valueFrom?.configMapKeyRef, ref.optional != true, let name = ref.name {
                    guard let cm = cache.get(ConfigMap.self, namespace: namespace, name: name) else {
                        return Missing(message: "configmap \"\(name)\" not found", key: key(ConfigMap.kind, name))
                    }
                    if cm.data?[ref.key] == nil, cm.binaryData?[ref.key] == nil {
                        return Missing(message: "couldn't find key \(ref.key) in ConfigMap \(namespace)/\(name)", key: key(ConfigMap.kind, name))
                    }
                }
                if let ref = variable.valueFrom?.secretKeyRef, ref.optional != true, let name = ref.name {
                    guard let secret = cache.get(Secret.self, namespace: namespace, name: name) else {
                        return Missing(message: "secret \"\(name)\" not found", key: key(Secret.kind, name))
                    }
                    if secret.data?[ref.key] == nil {
                        return Missing(message: "couldn't find key \(ref.key) in Secret \(namespace)/\(name)", key: key(Secret.kind, name))
                    }
                }
            }
        }
        return nil
    }
}
