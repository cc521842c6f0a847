import ClusterModel
import ControlPlane
import Foundation
import Journal

/// Server-side printing: `meta.k8s.io/v1` `Table` documents with kubectl's columns, which kubectl
/// asks for (`Accept: application/json;as=Table;…`) and prints as they come.
enum Tables {
    /// One row: its cells, and what `includeObject` asks to carry with it.
    struct Row {
        var cells: [String]
        var object: JSONValue?
    }

    /// A Table of `objects`; each row carries the object's metadata (`includeObject=Metadata`, the
    /// default), the whole object (`Object`) or nothing (`None`).
    static func table(_ kind: ResourceKind, _ objects: [(object: any Resource, json: JSONValue)], revision: UInt64?, continueToken: String? = nil,
                      includeObject: String?, now: Date) -> JSONValue {
        let rows = objects.map { o in
            Row(cells: kind.definition.cells(o.object, now: now), object: rowObject(includeObject, whole: { o.json }, metadata: { o.json["metadata"] }))
        }
        return table(kind, rows, revision: revision, continueToken: continueToken)
    }

    /// A Table of objects left in the journal: the cells read in place from each object's stored
    /// JSON where its kind allows (else from the decoded object), and only the part of the object
    /// the row carries parsed.
    static func table(_ kind: ResourceKind, stored objects: [StoredObject], in view: JournalView, revision: UInt64?, continueToken: String?,
                      includeObject: String?, now: Date) throws -> JSONValue {
        let definition = kind.definition
        let rows = try objects.map { stored in
            try stored.withStoredJSON(in: view) { json -> Row in
                let cells = try definition.cells(stored: json, now: now) ?? definition.cells(try stored.decode(in: view), now: now)
                let object = try rowObject(includeObject, whole: { try stored.json(in: view) }, metadata: {
                    var metadata = try json["metadata"].map { try JSONValue.parse(Array($0.bytes)) } ?? .object([:])
                    metadata["resourceVersion"] = .string(String(stored.revision))
                    return metadata
                })
                return Row(cells: cells, object: object)
            }
        }
        return table(kind, rows, revision: revision, continueToken: continueToken)
    }

    /// What a row carries for `includeObject`: a `PartialObjectMetadata`, the whole object, or nothing.
    private static func rowObject(_ includeObject: String?, whole: () throws -> JSONValue, metadata: () throws -> JSONValue?) rethrows -> JSONValue? {
        switch includeObject ?? "Metadata" {
        case "None": nil
        case "Object": try whole()
        default: ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": try metadata() ?? [:]]
        }
    }

    private static func table(_ kind: ResourceKind, _ rows: [Row], revision: UInt64?, continueToken: String?) -> JSONValue {
        let definitions = kind.definition.columns
        let columns: [JSONValue] = definitions.map { c in
            ["name": .string(c.name), "type": .string(c.type), "format": c.name == "Name" ? "name" : "",
             "description": .string(c.description), "priority": .int(Int64(c.priority))]
        }
        let rows: [JSONValue] = rows.map { row in
            var out: JSONValue = ["cells": .array(zip(row.cells, definitions).map { cell, column in
                column.type == "integer" ? (Int64(cell).map { .int($0) } ?? .string(cell)) : .string(cell)
            })]
            if let object = row.object { out["object"] = object }
            return out
        }
        var metadata: [String: JSONValue] = [:]
        if let revision { metadata["resourceVersion"] = .string(String(revision)) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(columns), "rows": .array(rows)]
    }
}
