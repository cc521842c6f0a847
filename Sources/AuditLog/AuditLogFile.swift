import ClusterModel
import CZlib
import Foundation
import Synchronization

/// One audit log file, read as a stream of its events in file order, each with its line.
///
/// Reads what kube-apiserver's log backend writes (one JSON event per line) and what people pass
/// around: gzip-compressed logs (several members, as `logrotate` makes), a single pretty-printed
/// event, a YAML document (with comments), a UTF-8 byte order mark, blank lines. A line that is
/// not an audit event is an error naming the file and the line; nothing is skipped silently.
/// JSON lines are read a block at a time (gunzipped as they come) and parsed on every core, a
/// batch of lines at a time, so a log of any size is read in bounded memory.
public struct AuditLogFile: Sendable {
    /// What the events are read from (a path, or `-` for standard input).
    public var name: String
    private let bytes: [UInt8]?

    /// `path` (`-`: standard input), read when its events are.
    public init(path: String) throws(AuditLogError) {
        guard path == "-" || FileManager.default.isReadableFile(atPath: path) else { throw AuditLogError("\(path): cannot read the file") }
        name = path
        bytes = nil
    }

    /// `bytes`, named `name` in errors.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// Hands the events to `body` in file order, `batch` lines at a time; `preparing` is done to
    /// each event on the cores that parse it. A line that is not an audit event throws an
    /// `AuditLogError`; so does anything `body` throws.
    public func read(batch: Int = 8192, preparing: @escaping @Sendable (inout AuditEvent) -> Void = { _ in },
                     _ body: ([(line: Int, event: AuditEvent)]) throws -> Void) throws {
        var lines = LineBatches(name: name, batch: max(1, batch), prepare: preparing)
        if let bytes {
            try lines.take(bytes.starts(with: [0x1F, 0x8B]) ? try Gzip.decompress(bytes, name: name) : bytes, body)
        } else {
            let handle = name == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: name)
            guard let handle else { throw AuditLogError("\(name): cannot read the file") }
            defer { if name != "-" { try? handle.close() } }
            var gzip: Gzip?
            var first = true
            while true {
                let block: [UInt8]
                do { block = Array(try handle.read(upToCount: 1 << 20) ?? Data()) } catch { throw AuditLogError("\(name): \(error)") }
                if block.isEmpty { break }
                if first, block.starts(with: [0x1F, 0x8B]) { gzip = try Gzip(name: name) }
                first = false
                if let gzip { try gzip.inflate(block) { text in try lines.take(text, body) } } else { try lines.take(block, body) }
            }
            try gzip?.finish()
        }
        try lines.finish(body)
    }

    static func event(_ document: JSONValue, name: String, line: Int, unit: String = "line") throws(AuditLogError) -> AuditEvent {
        do { return try AuditEvent(document) } catch { throw AuditLogError("\(name), \(unit) \(line): \(error.description)") }
    }
}

/// A log's text cut into lines, parsed a batch at a time on every core. The first line decides
/// the form: JSON lines; one pretty-printed JSON event (its first line is not a whole event); or
/// YAML documents (it does not start with `{`). The last two are read whole.
private struct LineBatches {
    let name: String
    let batch: Int
    let prepare: @Sendable (inout AuditEvent) -> Void
    private var partial: [UInt8] = []
    private var pending: [(number: Int, bytes: [UInt8])] = []
    private var number = 0
    private enum Form { case undecided, lines, whole }
    private var form = Form.undecided
    private var whole: [UInt8] = []
    private var inFlight: Parsing?

    typealias Body = ([(line: Int, event: AuditEvent)]) throws -> Void

    init(name: String, batch: Int, prepare: @escaping @Sendable (inout AuditEvent) -> Void) {
        self.name = name
        self.batch = batch
        self.prepare = prepare
    }

    mutating func take(_ text: [UInt8], _ body: Body) throws {
        var text = text[...]
        if form == .undecided, number == 0, partial.isEmpty, text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        if form == .whole {
            whole += text
            return
        }
        var start = text.startIndex
        while let end = text[start...].firstIndex(of: UInt8(ascii: "\n")) {
            partial += text[start..<end]
            start = end + 1
            try line(body)
            if form == .whole {
                whole += text[start...]
                return
            }
        }
        partial += text[start...]
    }

    mutating func finish(_ body: Body) throws {
        if form != .whole, !partial.isEmpty { try line(body) }
        switch form {
        case .whole: try wholeDocument(body)
        case .lines:
            try flush(body)
            try drain(body)
        case .undecided: break  // nothing but blank lines
        }
    }

    /// One line (in `partial`) ends.
    private mutating func line(_ body: Body) throws {
        number += 1
        var bytes = partial
        partial.removeAll(keepingCapacity: true)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.contains(where: { ![0x20, 0x09].contains($0) }) else {
            if form == .undecided { whole += bytes + [0x0A] }
            return
        }
        if form == .undecided {
            if bytes.first(where: { ![0x20, 0x09].contains($0) }) == UInt8(ascii: "{"), (try? JSONValue.parse(bytes)) != nil {
                form = .lines
            } else {
                form = .whole
                whole += bytes + [0x0A]
                return
            }
        }
        pending.append((number, bytes))
        if pending.count >= batch { try flush(body) }
    }

    /// Parses the pending lines on every core; the first bad line (in file order) is the error.
    private mutating func flush(_ body: Body) throws {
        guard !pending.isEmpty else { return }
        let lines = pending, name = self.name, prepare = self.prepare
        pending.removeAll(keepingCapacity: true)
        // This batch parses on other threads while the caller handles the one before it.
        let parsing = Parsing { Self.parse(lines, name: name, prepare: prepare) }
        defer { inFlight = parsing }
        if let previous = inFlight {
            inFlight = nil
            do {
                try body(try previous.result())
            } catch {
                _ = try? parsing.result()  // let the batch started finish before the error leaves
                throw error
            }
        }
    }

    /// The batch still parsing, handed to `body`.
    private mutating func drain(_ body: Body) throws {
        guard let last = inFlight else { return }
        inFlight = nil
        try body(try last.result())
    }

    /// Parses `lines` on every core; the first bad line (in file order) is the error.
    private static func parse(_ lines: [(number: Int, bytes: [UInt8])], name: String,
                              prepare: @Sendable (inout AuditEvent) -> Void) -> Result<[(line: Int, event: AuditEvent)], AuditLogError> {
        let chunkSize = 512
        let chunks = (lines.count + chunkSize - 1) / chunkSize
        let parsed = Mutex<[Int: Result<[(line: Int, event: AuditEvent)], AuditLogError>]>([:])
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var events: [(line: Int, event: AuditEvent)] = []
            var failure: AuditLogError?
            for (number, bytes) in lines[(chunk * chunkSize)..<min(lines.count, (chunk + 1) * chunkSize)] {
                do {
                    var event = try AuditLogFile.event(try JSONValue.parse(bytes), name: name, line: number)
                    prepare(&event)
                    events.append((number, event))
                } catch let error as AuditLogError {
                    failure = error
                    break
                } catch {
                    failure = AuditLogError("\(name), line \(number): not JSON: \(error)")
                    break
                }
            }
            let result: Result<[(line: Int, event: AuditEvent)], AuditLogError> = failure.map { .failure($0) } ?? .success(events)
            parsed.withLock { $0[chunk] = result }
        }
        var events: [(line: Int, event: AuditEvent)] = []
        events.reserveCapacity(lines.count)
        let results = parsed.withLock { $0 }
        for chunk in 0..<chunks {
            // concurrentPerform returns once every chunk is done: each has its result.
            switch results[chunk]! {
            case .success(let part): events += part
            case .failure(let error): return .failure(error)
            }
        }
        return .success(events)
    }

    /// A pretty-printed JSON event, or YAML documents (`---` between them), each an event.
    private func wholeDocument(_ body: Body) throws {
        if whole.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
            guard let document = try? JSONValue.parse(whole) else {
                // Neither JSON lines nor one JSON document: the first line is the error.
                let first = whole.split(separator: 0x0A).first { $0.contains { ![0x20, 0x09, 0x0D].contains($0) } } ?? []
                let line = (whole.split(separator: 0x0A, omittingEmptySubsequences: false).firstIndex { $0 == first } ?? 0) + 1
                do { _ = try JSONValue.parse(Array(first)) } catch { throw AuditLogError("\(name), line \(line): not JSON: \(error)") }
                throw AuditLogError("\(name), line \(line): not JSON")
            }
            var event = try AuditLogFile.event(document, name: name, line: 1)
            prepare(&event)
            return try body([(1, event)])
        }
        let documents: [JSONValue]
        do { documents = try Manifest.documents(whole) } catch { throw AuditLogError("\(name): neither JSON lines nor YAML: \(error)") }
        var events: [(line: Int, event: AuditEvent)] = []
        for (i, document) in documents.enumerated() {
            var event = try AuditLogFile.event(document, name: name, line: i + 1, unit: "document")
            prepare(&event)
            events.append((i + 1, event))
        }
        try body(events)
    }
}

/// A batch of lines parsing on a thread of its own (and from there on every core).
private final class Parsing: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<[(line: Int, event: AuditEvent)], AuditLogError>?>(nil)

    init(_ work: @escaping @Sendable () -> Result<[(line: Int, event: AuditEvent)], AuditLogError>) {
        DispatchQueue.global().async {
            let result = work()
            self.outcome.withLock { $0 = result }
            self.done.signal()
        }
    }

    /// The events, once parsed (waits until then).
    func result() throws(AuditLogError) -> [(line: Int, event: AuditEvent)] {
        done.wait()
        done.signal()  // a second look does not wait
        return try outcome.withLock { $0! }.get()
    }
}

/// gzip through zlib (`inflate`), fed a block at a time, every member of the stream in turn.
final class Gzip {
    private let name: String
    /// zlib's stream keeps a pointer to itself: it lives at one address.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 1 << 16)
    private var ended = false
    private var total = 0

    init(name: String) throws(AuditLogError) {
        self.name = name
        stream.initialize(to: z_stream())
        let windowBits: Int32 = 16 + MAX_WBITS  // gzip framing
        let started = ZLIB_VERSION.withCString { inflateInit2_(stream, windowBits, $0, Int32(MemoryLayout<z_stream>.size)) }
        guard started == Z_OK else {
            stream.deallocate()
            throw AuditLogError("\(name): zlib could not start (\(started))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// The whole of `input`, decompressed.
    static func decompress(_ input: [UInt8], name: String) throws -> [UInt8] {
        let gzip = try Gzip(name: name)
        var text: [UInt8] = []
        try gzip.inflate(input) { text += $0 }
        try gzip.finish()
        return text
    }

    /// Decompresses `input`, handing the text to `body` as it comes.
    func inflate(_ input: [UInt8], _ body: ([UInt8]) throws -> Void) throws {
        var consumed = 0
        while consumed < input.count {
            let before = consumed
            if ended {
                // Another member follows (concatenated gzip files are one gzip file).
                inflateReset(stream)
                ended = false
            }
            let (result, produced) = input.withUnsafeBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                    stream.pointee.avail_in = UInt32(input.count - consumed)
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(outBuffer.count)
                    let r = CZlib.inflate(stream, Z_NO_FLUSH)
                    consumed = input.count - Int(stream.pointee.avail_in)
                    return (r, outBuffer.count - Int(stream.pointee.avail_out))
                }
            }
            total += produced
            if produced > 0 { try body(Array(output[0..<produced])) }
            switch result {
            case Z_STREAM_END: ended = true
            case Z_OK: continue
            case Z_BUF_ERROR where produced > 0 || consumed > before: continue
            case Z_BUF_ERROR: return  // nothing more from this input
            default:
                let why = stream.pointee.msg.map { String(cString: $0) } ?? "error \(result)"
                throw AuditLogError("\(name): not a valid gzip stream: \(why)")
            }
        }
    }

    /// The input is over: a member cut short is an error.
    func finish() throws(AuditLogError) {
        guard ended else { throw AuditLogError("\(name): the gzip stream is truncated (after \(total) bytes of log)") }
    }
}
