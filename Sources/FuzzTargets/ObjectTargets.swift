@_spi(Fuzzing) import APIServer
import ClusterModel
import Foundation

extension FuzzTarget {
    /// A JSON request body or manifest (`kubectl apply`, `kj apply -f x.json`): `JSONValue.parse`,
    /// then everything `objects(from:)` does with the document.
    public static func manifestJSON(_ data: UnsafeRawBufferPointer) {
        guard let doc = try? JSONValue.parse([UInt8](data)) else { return }
        checkCanonicalBytes(doc)
        objects(from: doc)
    }

    /// A YAML (or JSON) manifest or request body: `Manifest.documents` (several documents, `List`s
    /// expanded), then `objects(from:)` for each document.
    public static func manifestYAML(_ data: UnsafeRawBufferPointer) {
        guard let docs = try? Manifest.documents(data.text) else { return }
        for doc in docs {
            checkCanonicalBytes(doc)
            objects(from: doc)
        }
    }

    /// A `application/vnd.kubernetes.protobuf` request body, decoded as the server decodes it, then
    /// `objects(from:)` on the JSON it becomes.
    public static func protobuf(_ data: UnsafeRawBufferPointer) {
        guard let doc = try? ProtobufBodies.decode([UInt8](data)) else { return }
        checkCanonicalBytes(doc)
        objects(from: doc)
    }

    /// The stored form of any JSON value: its canonical bytes must parse again and be a fixed point
    /// (the journal hashes these bytes, and re-encodes what it reads).
    static func checkCanonicalBytes(_ doc: JSONValue) {
        let bytes = doc.serialized()
        let again: JSONValue
        do { again = try JSONValue.parse(bytes) } catch { violated("serialized JSON does not parse (\(error)): \(doc.jsonString.prefix(200))") }
        guard again.serialized() == bytes else { violated("serialized JSON is not a fixed point: \(doc.jsonString.prefix(200))") }
    }

    /// What follows the decoding of a document: `Manifest.object` (the kind it names), and every
    /// kind's typed decode, strict and not; each object that decodes is `admit`ted.
    static func objects(from doc: JSONValue) {
        _ = try? Manifest.object(doc, strict: true)
        for kind in ResourceKind.allCases {
            for strict in [true, false] {
                if let object = try? kind.decode(doc, strict: strict) { admit(object) }
            }
        }
    }

    /// The Store's create path for a decoded object: defaulting, validation (and its messages), the
    /// table row `kubectl get` shows; for an object that validates, what the components compute from
    /// it (`computeViews`), and the bytes the Store would append must decode again (the fold reads
    /// them) to an object that encodes to the same bytes.
    static func admit<R: Resource>(_ object: R) {
        let kind = ResourceKind(of: R.self)
        let o = Defaults.apply(object).withTypeMeta()
        let errors = Validation.validate(o)
        for e in errors { _ = e.description }
        _ = ResourceTable.make(kind, [o], now: tableTime)
        guard errors.isEmpty else { return }
        computeViews(o)
        let bytes: [UInt8]
        do { bytes = try ValueEncoder().encode(o).serialized() } catch { violated("a valid \(R.kind) does not encode: \(error)") }
        let folded: any Resource
        do {
            folded = try kind.decode(try JSONValue.parse(bytes), strict: false)
        } catch {
            violated("the \(R.kind) the Store would append does not decode again (\(error)): \(String(decoding: bytes.prefix(300), as: UTF8.self))")
        }
        let again = try? ValueEncoder().encode(folded).serialized()
        guard again == bytes else {
            violated("a stored \(R.kind) encodes differently once read back: \(String(decoding: bytes.prefix(300), as: UTF8.self))")
        }
    }

    /// What the scheduler, the controllers and the node lifecycle controller read from an accepted
    /// object through ClusterModel: request sums, toleration matches, selectors, rollout bounds.
    static func computeViews(_ object: any Resource) {
        let taints = [Defaults.notReadyTaint, Defaults.unreachableTaint].map { Taint(key: $0, effect: "NoExecute") }
        switch object {
        case let pod as Pod:
            let resources = Set(pod.spec.containers.flatMap { ($0.resources?.requests ?? [:]).keys })
            for r in resources.sorted() { _ = pod.request(r).value }
            for t in pod.spec.tolerations ?? [] {
                for taint in taints + [Taint(key: t.key ?? "", value: t.value, effect: t.effect ?? "NoSchedule")] { _ = t.tolerates(taint) }
            }
            _ = pod.isReady
        case let node as Node:
            for q in Array((node.status?.capacity ?? [:]).values) + Array((node.status?.allocatable ?? [:]).values) { _ = (q.value, q.milliSaturated) }
        case let rs as ReplicaSet:
            _ = LabelSelectorExpression(rs.spec.selector).matches(rs.spec.template?.metadata?.labels ?? [:])
        case let d as Deployment:
            _ = LabelSelectorExpression(d.spec.selector).matches(d.spec.template.metadata?.labels ?? [:])
            let replicas = Int(d.spec.replicas ?? 1)
            for bound in [d.spec.strategy?.rollingUpdate?.maxSurge, d.spec.strategy?.rollingUpdate?.maxUnavailable] {
                _ = (bound?.scaled(total: replicas, roundUp: true), bound?.scaled(total: replicas, roundUp: false))
            }
        case let s as Service:
            _ = LabelSelectorExpression(labels: s.spec?.selector ?? [:]).matches(s.metadata.labels ?? [:])
        default:
            break
        }
    }

    /// A fixed "now" for ages in table rows.
    static let tableTime = Date(timeIntervalSince1970: 1_800_000_000)
}
