import ClusterModel

extension FuzzTarget {
    // MARK: quantities

    /// A quantity as text (`Quantity(parsing:)`) and as a JSON member (a string, or a bare number as
    /// apimachinery accepts it); each quantity read is `checkQuantity`'d.
    public static func quantity(_ data: UnsafeRawBufferPointer) {
        if let q = try? Quantity(parsing: data.text) { checkQuantity(q) }
        if let v = try? JSONValue.parse([UInt8](data)), let q = try? ValueDecoder().decode(Quantity.self, from: v) { checkQuantity(q) }
    }

    /// The canonical text reads back as the same quantity (it is what the journal stores); the
    /// integer views, sums and differences stay within the cap.
    static func checkQuantity(_ q: Quantity) {
        let text = q.description
        guard let back = try? Quantity(parsing: text), back == q else { violated("quantity \(q.milli)m prints as \"\(text)\", which does not read back") }
        _ = (q.value, q.milliSaturated)
        for other in [q, .zero - q, Quantity(milli: 1), Quantity(milli: Quantity.maxMilli), Quantity(milli: -Quantity.maxMilli)] {
            for r in [q + other, q - other] {
                guard r.milli.magnitude <= Quantity.maxMilli.magnitude else { violated("\(q.milli)m ± \(other.milli)m left the cap") }
                _ = (r.description, r.value, r.milliSaturated, r < q)
            }
        }
    }

    // MARK: selectors

    /// A label selector on the first line (`?labelSelector=`, `kubectl get -l`), matched against
    /// the labels `k=v,k2=v2` on the second; its printed form must parse to the same selector.
    public static func labelSelector(_ data: UnsafeRawBufferPointer) {
        let (selectorText, labelsText) = data.twoLines
        guard let s = try? LabelSelectorExpression(parsing: selectorText.text) else { return }
        guard let again = try? LabelSelectorExpression(parsing: s.description), again == s else {
            violated("label selector \"\(selectorText.text)\" prints as \"\(s.description)\", which does not parse to it")
        }
        var labels: [String: String] = [:]
        for pair in labelsText.text.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            labels[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
        }
        _ = s.matches(labels)
    }

    /// A field selector (`?fieldSelector=`, `kubectl get --field-selector`) for every kind, matched
    /// against field values equal to their names.
    public static func fieldSelector(_ data: UnsafeRawBufferPointer) {
        let text = data.text
        for kind in ResourceKind.allCases {
            guard let s = try? FieldSelectorExpression(parsing: text, kind: kind) else { continue }
            _ = s.matches { $0 }
        }
    }

    // MARK: patches

    /// A merge patch (`application/merge-patch+json`) of the first line's document by the second
    /// line's (or by itself, on one line); applying it twice must give what applying it once does
    /// (RFC 7386 patches are idempotent).
    public static func mergePatch(_ data: UnsafeRawBufferPointer) {
        guard let (doc, patch) = documentAndPatch(data) else { return }
        let once = Patch.mergePatch(doc, patch)
        guard Patch.mergePatch(once, patch) == once else { violated("a merge patch applied twice differs from once: \(patch.jsonString.prefix(200))") }
        patched(once, from: doc)
    }

    /// A strategic merge patch (`application/strategic-merge-patch+json`, kubectl's default), as
    /// `mergePatch` reads its input.
    public static func strategicMergePatch(_ data: UnsafeRawBufferPointer) {
        guard let (doc, patch) = documentAndPatch(data) else { return }
        guard let result = try? Patch.strategicMerge(doc, patch) else { return }
        patched(result, from: doc)
    }

    /// A JSON patch (`application/json-patch+json`), as `mergePatch` reads its input.
    public static func jsonPatch(_ data: UnsafeRawBufferPointer) {
        guard let (doc, patch) = documentAndPatch(data) else { return }
        guard let result = try? Patch.jsonPatch(doc, patch) else { return }
        patched(result, from: doc)
    }

    /// The first line as the document and the second as the patch; one line is both.
    static func documentAndPatch(_ data: UnsafeRawBufferPointer) -> (JSONValue, JSONValue)? {
        let (first, second) = data.twoLines
        guard let doc = try? JSONValue.parse([UInt8](first)) else { return nil }
        if second.isEmpty { return (doc, doc) }
        guard let patch = try? JSONValue.parse([UInt8](second)) else { return nil }
        return (doc, patch)
    }

    /// What the Store does with a patched document: it keeps the kind of the object patched and
    /// decodes the result as that kind (strict and not), checks it as an update of the original and
    /// admits it.
    static func patched(_ result: JSONValue, from doc: JSONValue) {
        checkCanonicalBytes(result)
        guard let apiVersion = doc["apiVersion"]?.stringValue, let kindName = doc["kind"]?.stringValue,
              let kind = ResourceKind(apiVersion: apiVersion, kind: kindName)
        else { return }
        var typed = result
        typed["kind"] = .string(kind.kind)
        typed["apiVersion"] = .string(kind.apiVersion)
        let old = try? kind.decode(doc, strict: false)
        for strict in [true, false] {
            guard let object = try? kind.decode(typed, strict: strict) else { continue }
            if let old { _ = Validation.validateUpdate(old: old, new: object).map(\.description) }
            admit(object)
        }
    }
}
