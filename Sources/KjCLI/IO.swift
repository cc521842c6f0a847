import Foundation

/// Reads a file (or standard input for "-") line by line, without the newlines.
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false

    init?(path: String) {
        if path == "-" {
            handle = .standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: path) else { return nil }
            handle = h
        }
    }

    deinit { try? handle.close() }

    func next() -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var line = Array(buffer[start..<nl])
                if line.last == 13 { line.removeLast() }
                start = nl + 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Array(buffer[start...])
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? nil
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { eof = true }
        }
    }
}

/// Buffered writing to a file or standard output.
final class FileSink {
    private let fd: Int32
    private let owned: Bool
    private var buffer: [UInt8] = []
    private var failed = false

    /// Standard output. Output already `print`ed is flushed first, so the two do not interleave.
    static func standardOutput() -> FileSink {
        fflush(nil)
        return FileSink(fd: STDOUT_FILENO, owned: false)
    }

    private init(fd: Int32, owned: Bool) {
        self.fd = fd
        self.owned = owned
        buffer.reserveCapacity(1 << 16)
    }

    convenience init?(creating path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return nil }
        self.init(fd: fd, owned: true)
    }

    deinit { try? close() }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func line(_ s: String = "") {
        write(s)
        write("\n")
    }

    func flush() {
        var done = 0
        while done < buffer.count && !failed {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno != EINTR { failed = true }
            if n > 0 { done += n }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered; closes the file if this sink opened it. Throws if any write failed.
    func close() throws {
        flush()
        if owned && fd >= 0 { Glibc.close(fd) }
        if failed { throw CocoaError(.fileWriteUnknown) }
    }
}

/// A one-line progress indicator on standard error, shown only on a terminal and only for work
/// that has already taken more than a second.
final class Progress {
    private let label: String
    private let started = Date()
    private var shown = false
    private let enabled = isatty(STDERR_FILENO) != 0

    init(label: String) { self.label = label }

    func update(_ count: UInt64, of total: UInt64? = nil) {
        guard enabled, Date().timeIntervalSince(started) > 1 else { return }
        shown = true
        let tail = total.map { " of \($0) (\(count * 100 / max($0, 1))%)" } ?? ""
        FileHandle.standardError.write(Data("\r\(label): \(count)\(tail)\u{1B}[K".utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
