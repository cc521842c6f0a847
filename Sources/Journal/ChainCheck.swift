import Foundation

/// The hash chain checked before appending: a writable open verifies the records appended since
/// the last verified point (`meta` key `verified_through`, see `journal/FORMAT.md`) and refuses a
/// broken chain, so nothing is appended to a journal that no longer verifies. The verified point
/// moves only by verification — this check and a successful `Journal.verify(at:)` — never by
/// appends, so what was appended since the last open is checked at the next.
extension Journal {
    /// The event type the journal appends when a writer opens a broken journal anyway.
    public static let chainBreakAcceptedType = "ChainBreakAccepted"

    /// The revision, time and hash up to which the chain was last verified; nil if never.
    public func verifiedThrough() throws -> Head? {
        try read { try $0.metaValue(Keys.verifiedThrough).flatMap(Keys.decodePoint) }
    }

    /// Verifies the journal at `path` in full (as `verify`) and, when it is intact and the journal
    /// may be written, records its head as the verified point, so that the next writable open
    /// checks only what comes after it. The journal must not be open in this process.
    public static func verify(at path: String, progress: (UInt64) -> Void = { _ in }) throws -> VerifyReport {
        let reader = try open(at: path, options: .reader)
        let report: VerifyReport
        do {
            report = try reader.verify(progress: progress)
            reader.close()
        } catch {
            reader.close()
            throw error
        }
        guard report.ok, report.head.revision > 0 else { return report }
        // Recording is a convenience: a journal this process may not write (a copy on a read-only
        // disk, another user's) verifies all the same.
        if let writer = try? open(at: path, options: JournalOptions(), checkingChain: false) {
            _ = try? writer.activeWriter().recordVerification(report.head, appending: [])
            writer.close()
        }
        return report
    }

    /// The check a writable open makes before anything is appended (see `Journal.open`).
    func verifyChainBeforeAppending() throws(JournalError) {
        var actor: Actor?
        if case .accept(let a) = options.brokenChain { actor = a }
        let walk: (start: Head, last: Head, problems: [VerifyReport.Problem])
        do {
            walk = try read { view in try Self.walkChain(in: view, accepting: actor != nil) }
        } catch let e as JournalError {
            throw e
        } catch {
            throw JournalError(.io, "verifying the journal at \(path) failed", underlying: error)
        }
        let writer = try activeWriter()
        guard let first = walk.problems.first else {
            // Recording the point only saves work at the next open: a failure (a full disk) is no reason to refuse.
            if walk.last.revision > walk.start.revision { _ = try? writer.recordVerification(walk.last, appending: []) }
            return
        }
        guard let actor else {
            throw JournalError(
                .chainBroken,
                "the journal at \(path) fails verification at revision \(first.revision): \(first.message); it was not opened for writing",
                revision: first.revision)
        }
        let time = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
        let object = ObjectRef(kind: "Journal", name: clusterID.isEmpty ? "journal" : clusterID)
        let drafts = walk.problems.map { p in
            var data = "{"
            if let h = p.expectedHash { data += "\"expectedHash\":\"\(h.hex)\"," }
            if let h = p.foundHash { data += "\"foundHash\":\"\(h.hex)\"," }
            data += "\"problem\":\(JSONSyntax.quoted(p.message)),\"revision\":\(p.revision)}"
            return EventDraft(time: time, type: Self.chainBreakAcceptedType, actor: actor, object: object, data: Array(data.utf8))
        }
        do {
            _ = try writer.recordVerification(walk.last, appending: drafts)
        } catch let e as JournalError {
            throw e
        } catch {
            throw JournalError(.io, "recording the accepted chain break in \(path) failed", underlying: error)
        }
    }

    /// Walks the chain from the verified point to the head. Stops at the first problem unless
    /// `accepting`, in which case it goes on after each (from the hash the bad record stores) and
    /// returns them all; `last` is where the walk ended.
    private static func walkChain(in view: JournalView, accepting: Bool) throws -> (start: Head, last: Head, problems: [VerifyReport.Problem]) {
        let start = try view.metaValue(Keys.verifiedThrough).flatMap(Keys.decodePoint) ?? .empty
        var chain = ChainWalk(from: start)
        var problems: [VerifyReport.Problem] = []
        if start.revision > 0 {
            // The record at the verified point must still be the one that was verified: same
            // stored hash, and still the hash of its bytes after the hash stored before it.
            var previous = ChainHash.zero, stored: ChainHash?, recomputed: ChainHash?
            func hashes(of record: UnsafeRawBufferPointer) -> (stored: ChainHash, canonical: UnsafeRawBufferPointer)? {
                guard record.count >= EventCodec.hashSize else { return nil }
                let split = record.count - EventCodec.hashSize
                return (ChainHash(bytes: UnsafeRawBufferPointer(rebasing: record[split...])), UnsafeRawBufferPointer(rebasing: record[..<split]))
            }
            if start.revision > 1 {
                try view.forEachRecord(in: (start.revision - 1)...(start.revision - 1), reverse: false) { _, record in
                    previous = hashes(of: record)?.stored ?? previous
                    return false
                }
            }
            try view.forEachRecord(in: start.revision...start.revision, reverse: false) { _, record in
                if let (hash, canonical) = hashes(of: record) {
                    stored = hash
                    recomputed = previous.chained(with: canonical)
                }
                if stored != start.hash || recomputed != start.hash, accepting { chain.resume(at: start.revision, record) }
                return false
            }
            if stored != start.hash || recomputed != start.hash {
                let message: String
                if let stored, stored != start.hash {
                    message = "the record differs from the one verified before: stored hash \(stored.short)…, verified \(start.hash.short)…"
                } else if let recomputed, stored != nil {
                    message = "hash mismatch: stored \(start.hash.short)…, recomputed \(recomputed.short)…"
                } else {
                    message = "the record verified before is missing"
                }
                problems.append(.init(revision: start.revision, message: message, expectedHash: recomputed ?? start.hash, foundHash: stored))
                guard accepting else { return (start, start, problems) }
                // A journal that now ends before its verified point goes on from its head.
                let head = try view.head()
                if stored == nil, head.revision < start.revision { return (start, head, problems) }
            }
        }
        try view.forEachRecord(in: (start.revision + 1)...UInt64.max, reverse: false) { rev, record in
            if let problem = chain.step(rev, record) {
                problems.append(problem)
                guard accepting else { return false }
                chain.resume(at: rev, record)
            }
            return true
        }
        return (start, chain.last, problems)
    }
}
