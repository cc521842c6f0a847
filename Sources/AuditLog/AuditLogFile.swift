import ClusterModel
import CZlib
import Foundation
import Synchronization

/// The audit events in one file, in the order the file holds them, each with its line.
///
/// Reads what kube-apiserver's log backend writes (one JSON event per line) and what people pass
/// around: gzip-compressed logs (several members, as `logrotate` makes), a single pretty-printed
/// event, a YAML document (with comments), a UTF-8 byte order mark, blank lines. A line that is
/// not an audit event is an error naming the file and the line; nothing is skipped silently.
public struct AuditLogFile: Sendable {
    /// What the events were read from (a path, or `-` for standard input).
    public var name: String
    public var events: [(line: Int, event: AuditEvent)]

    /// Reads `path` (`-`: standard input).
    public init(path: String) throws(AuditLogError) {
        let bytes: [UInt8]
        if path == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: path) else { throw AuditLogError("\(path): cannot read the file") }
            bytes = Array(data)
        }
        try self.init(name: path, bytes: bytes)
    }

    /// Reads `bytes`, named `name` in errors.
    public init(name: String, bytes: [UInt8]) throws(AuditLogError) {
        self.name = name
        var text = bytes.starts(with: [0x1F, 0x8B]) ? try Gzip.decompress(bytes, name: name) : bytes
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text.removeFirst(3) }
        let firstByte = text.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if firstByte == UInt8(ascii: "{") {
            events = try Self.jsonEvents(text, name: name)
        } else if firstByte == nil {
            events = []
        } else {
            events = try Self.yamlEvents(text, name: name)
        }
    }

    /// One event per line; a file whose first line is not a whole event is read as one
    /// pretty-printed event. The lines are parsed on every core, in chunks; the first bad line
    /// (in file order) is the error.
    static func jsonEvents(_ text: [UInt8], name: String) throws(AuditLogError) -> [(line: Int, event: AuditEvent)] {
        var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
        var number = 0
        for slice in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let bytes = slice.last == UInt8(ascii: "\r") ? slice.dropLast() : slice
            if bytes.contains(where: { ![0x20, 0x09].contains($0) }) { lines.append((number, bytes)) }
        }
        guard let first = lines.first else { return [] }
        if (try? JSONValue.parse(Array(first.bytes))) == nil, let whole = try? JSONValue.parse(text) {
            return [(1, try event(whole, name: name, line: 1))]
        }
        let chunkSize = 4096, all = lines
        let chunks = (lines.count + chunkSize - 1) / chunkSize
        let parsed = Mutex<[Int: Result<[(line: Int, event: AuditEvent)], AuditLogError>]>([:])
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var events: [(line: Int, event: AuditEvent)] = []
            var failure: AuditLogError?
            for (number, bytes) in all[(chunk * chunkSize)..<min(all.count, (chunk + 1) * chunkSize)] {
                do {
                    let document = try JSONValue.parse(Array(bytes))
                    events.append((number, try event(document, name: name, line: number)))
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
            case .failure(let error): throw error
            }
        }
        return events
    }

    /// YAML documents (`---` between them), each an event.
    static func yamlEvents(_ text: [UInt8], name: String) throws(AuditLogError) -> [(line: Int, event: AuditEvent)] {
        let documents: [JSONValue]
        do { documents = try Manifest.documents(text) } catch { throw AuditLogError("\(name): neither JSON lines nor YAML: \(error)") }
        var events: [(line: Int, event: AuditEvent)] = []
        for (i, document) in documents.enumerated() {
            events.append((i + 1, try event(document, name: name, line: i + 1, unit: "document")))
        }
        return events
    }

    static func event(_ document: JSONValue, name: String, line: Int, unit: String = "line") throws(AuditLogError) -> AuditEvent {
        do { return try AuditEvent(document) } catch { throw AuditLogError("\(name), \(unit) \(line): \(error.description)") }
    }
}

/// gzip through zlib (`inflate`), every member of the stream in turn.
enum Gzip {
    static func decompress(_ input: [UInt8], name: String) throws(AuditLogError) -> [UInt8] {
        var output: [UInt8] = []
        var stream = z_stream()
        let windowBits: Int32 = 16 + MAX_WBITS  // gzip framing
        let started = ZLIB_VERSION.withCString { inflateInit2_(&stream, windowBits, $0, Int32(MemoryLayout<z_stream>.size)) }
        guard started == Z_OK else { throw AuditLogError("\(name): zlib could not start (\(started))") }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var result = Z_OK
        var consumed = 0
        while true {
            result = input.withUnsafeBufferPointer { inBuffer in
                chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                    stream.avail_in = UInt32(input.count - consumed)
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    let r = inflate(&stream, Z_NO_FLUSH)
                    consumed = input.count - Int(stream.avail_in)
                    return r
                }
            }
            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            switch result {
            case Z_STREAM_END:
                // Another member may follow (concatenated gzip files are one gzip file).
                guard consumed < input.count else { return output }
                inflateReset(&stream)
            case Z_OK:
                continue
            case Z_BUF_ERROR where consumed == input.count:
                throw AuditLogError("\(name): the gzip stream is truncated (after \(output.count) bytes of log)")
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "error \(result)"
                throw AuditLogError("\(name): not a valid gzip stream: \(why)")
            }
        }
    }
}
