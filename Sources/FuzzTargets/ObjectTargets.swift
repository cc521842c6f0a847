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
        guard !Pending.manyYAMLAliases(data) else { return }
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
    /// table row `kubectl get` shows; for an object that validates, the bytes the Store would append
    /// must decode again (the fold reads them) to an object that encodes to the same bytes.
    static func admit<R: Resource>(_ object: R) {
        let kind = ResourceKind(of: R.self)
        let o = Defaults.apply(object).withTypeMeta()
        let errors = Validation.validate(o)
        for e in errors { _ = e.description }
        _ = ResourceTable.make(kind, [o], now: tableTime)
        guard errors.isEmpty else { return }
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

    /// A fixed "now" for ages in table rows.
    static let tableTime = Date(timeIntervalSince1970: 1_800_000_000)
}
