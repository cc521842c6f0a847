import ClusterModel
import ControlPlane
import Foundation

/// Server-side printing: `meta.k8s.io/v1` `Table` documents with kubectl's columns, which kubectl
/// asks for (`Accept: application/json;as=Table;…`) and prints as they come.
enum Tables {
    /// A Table of `objects`; each row carries the object's metadata (`includeObject=Metadata`, the
    /// default), the whole object (`Object`) or nothing (`None`).
    static func table(_ kind: ResourceKind, _ objects: [(object: any Resource, json: JSONValue)], revision: UInt64?, continueToken: String? = nil,
                      includeObject: String?, now: Date) -> JSONValue {
        let table = ResourceTable.make(kind, objects.map(\.object), now: now)
        let columns: [JSONValue] = table.columns.map { c in
            ["name": .string(c.name), "type": .string(c.type), "format": c.name == "Name" ? "name" : "",
             "description": .string(c.description), "priority": .int(Int64(c.priority))]
        }
        let rows: [JSONValue] = zip(table.rows, objects).map { cells, o in
            var row: JSONValue = ["cells": .array(zip(cells, table.columns).map { cell, column in
                column.type == "integer" ? (Int64(cell).map { .int($0) } ?? .string(cell)) : .string(cell)
            })]
            switch includeObject ?? "Metadata" {
            case "None": break
            case "Object": row["object"] = o.json
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.json["metadata"] ?? [:]]
            }
            return row
        }
        var metadata: [String: JSONValue] = [:]
        if let revision { metadata["resourceVersion"] = .string(String(revision)) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(columns), "rows": .array(rows)]
    }
}
