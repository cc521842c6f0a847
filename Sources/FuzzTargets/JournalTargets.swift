@_spi(Fuzzing) import Journal

extension FuzzTarget {
    /// One line of `kj journal import`: `NDJSON.event(from:)` and the checks an append makes; for
    /// an event the journal would accept, `checkStorable`.
    public static func ndjson(_ data: UnsafeRawBufferPointer) {
        guard let e = try? NDJSON.event(from: [UInt8](data)) else { return }
        checkStorable(e)
    }

    /// A stored record as LMDB hands it back, read the way `verify` and `kj get` read it
    /// (`Event(record:)`) and the way folds read it (`EventHeader(record:)`): both readings must
    /// agree, and the event must be stored again as the same event.
    public static func eventRecord(_ data: UnsafeRawBufferPointer) {
        let header = EventHeader(record: data)
        _ = header?.actor
        guard let e = Event(record: data) else { return }
        guard let h = header else { violated("a record that decodes has no header for folds") }
        guard h.revision == e.revision, h.time == e.time, h.type == e.type, h.object == e.object, h.actor == e.actor,
              h.data.elementsEqual(e.data)
        else { violated("a record's header and its event disagree: revision \(e.revision)") }
        checkStorable(e)
    }

    /// For an event the journal accepts (`Journal.check`, a positive revision): its record decodes
    /// to the same event, and its export line imports as the same event.
    static func checkStorable(_ e: Event) {
        _ = e.time.rfc3339
        guard e.revision > 0, (try? Journal.check(e.draft)) != nil else { return }
        guard e.record.withUnsafeBytes({ Event(record: $0) }) == e else { violated("event \(e.revision) is stored as a record that reads back differently") }
        let line = NDJSON.line(for: e)
        guard let imported = try? NDJSON.event(from: Array(line.utf8)) else { violated("the export line of event \(e.revision) does not import: \(line.prefix(300))") }
        guard imported == e else { violated("the export line of event \(e.revision) imports as another event: \(line.prefix(300))") }
    }
}
