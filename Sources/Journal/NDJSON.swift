/// The journal's exchange format: one JSON object per event per line, in revision order
/// (see `journal/FORMAT.md`). `data` is embedded byte for byte as stored, so a line can be
/// re-hashed exactly; reformatting a line's `data` breaks its hash.
public enum NDJSON {
    /// One event as a line of JSON (without the newline). Keys always appear in this order:
    /// rev, time, type, actor, object, cause, observed, trigger, request, data, hash;
    /// optional fields are left out when absent, as are an empty namespace and uid.
    public static func line(for e: Event) -> String {
        var s = "{\"rev\":\(e.revision),\"time\":\"\(e.time.rfc3339)\",\"type\":\(JSONSyntax.quoted(e.type))"
        s += ",\"actor\":{\"kind\":\(JSONSyntax.quoted(e.actor.kind)),\"name\":\(JSONSyntax.quoted(e.actor.name))}"
        s += ",\"object\":{\"kind\":\(JSONSyntax.quoted(e.object.kind))"
        if !e.object.namespace.isEmpty { s += ",\"namespace\":\(JSONSyntax.quoted(e.object.namespace))" }
        s += ",\"name\":\(JSONSyntax.quoted(e.object.name))"
        if !e.object.uid.isEmpty { s += ",\"uid\":\(JSONSyntax.quoted(e.object.uid))" }
        s += "}"
        if let v = e.cause { s += ",\"cause\":\(v)" }
        if let v = e.observed { s += ",\"observed\":\(v)" }
        if let v = e.trigger { s += ",\"trigger\":\(v)" }
        if let v = e.request { s += ",\"request\":\(JSONSyntax.quoted(v))" }
        s += ",\"data\":" + String(decoding: e.data, as: UTF8.self)
        s += ",\"hash\":\"\(e.hash.hex)\"}"
        return s
    }

    /// A line's parse failure.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses one line written by `line(for:)` (keys in any order; unknown keys refused).
    public static func event(from line: [UInt8]) throws -> Event {
        try line.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> Event in
            func sub(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[r]) }
            func fail(_ why: String) -> ParseError { ParseError(description: why) }
            let members: [(key: String, value: Range<Int>)]
            do { members = try JSONSyntax.objectMembers(raw) } catch { throw fail("not a JSON object: \(error)") }
            var fields: [String: Range<Int>] = [:]
            for m in members {
                guard fields.updateValue(m.value, forKey: m.key) == nil else { throw fail("duplicate key \"\(m.key)\"") }
            }
            let known: Set<String> = ["rev", "time", "type", "actor", "object", "cause", "observed", "trigger", "request", "data", "hash"]
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) { throw fail("unknown key \"\(unknown)\"") }
            func required(_ k: String) throws -> Range<Int> {
                guard let r = fields[k] else { throw fail("missing \"\(k)\"") }
                return r
            }
            func string(_ r: Range<Int>, _ k: String) throws -> String {
                do { return try JSONSyntax.string(sub(r)) } catch { throw fail("\"\(k)\" must be a string") }
            }
            func number(_ k: String) throws -> UInt64? {
                guard let r = fields[k] else { return nil }
                do { return try JSONSyntax.unsignedInteger(sub(r)) } catch { throw fail("\"\(k)\" must be a non-negative integer") }
            }
            func object(_ k: String, _ allowed: [String]) throws -> [String: String] {
                let r = try required(k)
                guard let inner = try? JSONSyntax.objectMembers(sub(r)) else { throw fail("\"\(k)\" must be an object") }
                var out: [String: String] = [:]
                for m in inner {
                    guard allowed.contains(m.key) else { throw fail("unknown key \"\(k).\(m.key)\"") }
                    out[m.key] = try string((m.value.lowerBound + r.lowerBound)..<(m.value.upperBound + r.lowerBound), "\(k).\(m.key)")
                }
                return out
            }
            guard let rev = try number("rev"), rev > 0 else { throw fail("\"rev\" must be a positive integer") }
            let timeText = try string(try required("time"), "time")
            guard let time = Timestamp(rfc3339: timeText) else { throw fail("\"time\" is not an RFC 3339 time: \(timeText)") }
            let actor = try object("actor", ["kind", "name"])
            let obj = try object("object", ["kind", "namespace", "name", "uid"])
            let hashText = try string(try required("hash"), "hash")
            guard let hash = ChainHash(hex: hashText) else { throw fail("\"hash\" must be 64 hex digits") }
            let draft = EventDraft(
                time: time, type: try string(try required("type"), "type"),
                actor: Actor(kind: actor["kind"] ?? "", name: actor["name"] ?? ""),
                object: ObjectRef(kind: obj["kind"] ?? "", namespace: obj["namespace"] ?? "", name: obj["name"] ?? "", uid: obj["uid"] ?? ""),
                cause: try number("cause"), observed: try number("observed"), trigger: try number("trigger"),
                request: try fields["request"].map { r in try string(r, "request") },
                data: [UInt8](sub(try required("data"))))
            return Event(revision: rev, draft: draft, hash: hash)
        }
    }
}
