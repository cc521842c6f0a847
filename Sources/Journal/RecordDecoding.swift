// The journal's record decoders, opened to the fuzz targets (`Sources/FuzzTargets`) through
// `@_spi(Fuzzing) import Journal`. Nothing else uses these; the journal's own read paths call
// `EventCodec` directly.

extension Event {
    /// Decodes a stored record (canonical bytes followed by the 32-byte chain hash) as `verify` and
    /// `JournalView.event(at:)` do; nil if the bytes are not a valid record.
    @_spi(Fuzzing) public init?(record: UnsafeRawBufferPointer) {
        guard let e = EventCodec.decode(record: record) else { return nil }
        self = e
    }

    /// The stored record of this event: its canonical bytes, as the writer encodes them, and its hash.
    @_spi(Fuzzing) public var record: [UInt8] {
        let size = EventCodec.encodedSize(draft)
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBytes { _ = EventCodec.encode(revision: revision, draft: draft, to: $0.baseAddress!) }
        hash.write(to: &out)
        return out
    }
}

extension EventHeader {
    /// Decodes the parts of a stored record that folds read, as `JournalView.forEachHeader` does;
    /// nil if the record is not valid. `data` points into `record`.
    @_spi(Fuzzing) public init?(record: UnsafeRawBufferPointer) {
        guard let h = EventCodec.header(record: record) else { return nil }
        self = h
    }
}
