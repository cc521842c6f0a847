import Foundation
import Synchronization

/// kube-apiserver's log backend: one JSON audit event per line, appended to a file that is
/// rotated when it would grow past `maxBytes` (the current file is renamed with the time of the
/// rotation, `audit-2026-11-30T18-30-00.000.log`, as kube-apiserver's lumberjack does) and of which
/// at most `maxBackups` rotated files are kept (0: all).
public final class AuditLogWriter: Sendable {
    public let path: String
    let maxBytes: Int
    let maxBackups: Int
    private let state: Mutex<(handle: FileHandle, size: Int)>

    /// Opens (or creates) `path` for appending. `maxMegabytes` 0: never rotated.
    public init(path: String, maxMegabytes: Int = 0, maxBackups: Int = 0) throws(AuditLogError) {
        self.path = path
        maxBytes = maxMegabytes * 1024 * 1024
        self.maxBackups = maxBackups
        state = Mutex(try Self.open(path))
    }

    static func open(_ path: String) throws(AuditLogError) -> (handle: FileHandle, size: Int) {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path), !fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) {
            throw AuditLogError("cannot create the audit log \(path)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AuditLogError("cannot open the audit log \(path)") }
        let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
        return (handle, size)
    }

    /// Appends one event as a line.
    public func write(_ line: [UInt8]) {
        state.withLock { s in
            if maxBytes > 0, s.size > 0, s.size + line.count + 1 > maxBytes { rotate(&s) }
            s.handle.write(Data(line + [UInt8(ascii: "\n")]))
            s.size += line.count + 1
        }
    }

    private func rotate(_ s: inout (handle: FileHandle, size: Int)) {
        try? s.handle.close()
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
        let stamp = Self.stamp(Date())
        let backup = url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(stamp)" + (ext.isEmpty ? "" : ".\(ext)")).path
        try? FileManager.default.moveItem(atPath: path, toPath: backup)
        if maxBackups > 0 { removeOldBackups(stem: stem, ext: ext, directory: url.deletingLastPathComponent().path) }
        if let reopened = try? Self.open(path) { s = reopened }
    }

    private func removeOldBackups(stem: String, ext: String, directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let backups = names.filter { $0.hasPrefix(stem + "-") && (ext.isEmpty || $0.hasSuffix("." + ext)) }.sorted()
        for old in backups.dropLast(maxBackups) { try? FileManager.default.removeItem(atPath: directory + "/" + old) }
    }

    /// `2026-11-30T18-30-00.000`, in UTC: sorts as it happened.
    static func stamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH-mm-ss.SSS"
        return f.string(from: date)
    }

    public func close() {
        state.withLock { try? $0.handle.close() }
    }
}
