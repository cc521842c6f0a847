import Foundation

/// Reading manifests: YAML (one or many documents) or JSON (one object, or a `List`).
public enum Manifest {
    /// A manifest that cannot be read, with where and why.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The documents in `text`, each a JSON value; empty documents are skipped and `kind: List`
    /// documents are expanded into their items. Reading is bounded (see `YAMLComposer` and
    /// `JSONValue.parse`): nesting, and what YAML aliases may add, are limited, so no text costs
    /// more than its length justifies.
    public static func documents(_ text: String) throws(ReadError) -> [JSONValue] {
        try documents(Array(text.utf8))
    }

    /// The documents in UTF-8 `bytes` (see `documents(_:)` for text).
    public static func documents(_ bytes: [UInt8]) throws(ReadError) -> [JSONValue] {
        let first = bytes.first { ![9, 10, 13, 32].contains($0) }
        let docs: [JSONValue]
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            do {
                docs = [try JSONValue.parse(bytes)]
            } catch {
                throw ReadError(description: "invalid JSON: \(error)")
            }
        } else {
            docs = try YAMLComposer.documents(bytes)
        }
        return docs.flatMap { doc -> [JSONValue] in
            if doc == .null { return [] }
            if doc["kind"]?.stringValue == "List", let items = doc["items"]?.arrayValue { return items }
            if case .array(let items) = doc { return items }
            return [doc]
        }
    }

    /// Typed objects from `text`: each document must be a served apiVersion/kind.
    public static func objects(_ text: String, strict: Bool = true) throws -> [any Resource] {
        try documents(text).enumerated().map { i, doc in try object(doc, strict: strict, document: i + 1) }
    }

    /// One typed object from a JSON value.
    public static func object(_ doc: JSONValue, strict: Bool = true, document: Int? = nil) throws -> any Resource {
        let at = document.map { " (document \($0))" } ?? ""
        guard let apiVersion = doc["apiVersion"]?.stringValue, let kindName = doc["kind"]?.stringValue else {
            throw ReadError(description: "Object 'Kind' is missing in '\(doc.jsonString.prefix(120))'\(at)")
        }
        guard let kind = ResourceKind(apiVersion: apiVersion, kind: kindName) else {
            throw ReadError(description: "no matches for kind \"\(kindName)\" in version \"\(apiVersion)\"\(at)")
        }
        do {
            return try kind.decode(doc, strict: strict)
        } catch let e as DecodingFailure {
            let name = doc["metadata"]?["name"]?.stringValue.map { " \"\($0)\"" } ?? ""
            throw ReadError(description: "\(kindName)\(name) in version \"\(apiVersion)\" cannot be handled as a \(kindName): strict decoding error: \(e)\(at)")
        }
    }
}
