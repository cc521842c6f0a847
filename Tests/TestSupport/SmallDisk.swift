import Foundation

/// A small tmpfs mounted for one test and unmounted when released (mounting needs root: check
/// `SmallDisk.permitted` and skip otherwise).
public final class SmallDisk: @unchecked Sendable {
    let directory = TemporaryDirectory("kj-disk")
    /// Where the tmpfs is mounted.
    public var path: String { directory.sub("mnt") }

    public struct MountFailed: Error, CustomStringConvertible {
        public var description: String
    }

    public init(megabytes: Int) throws {
        try FileManager.default.createDirectory(atPath: directory.sub("mnt"), withIntermediateDirectories: false)
        guard Self.run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.sub("mnt")]) else {
            throw MountFailed(description: "cannot mount a \(megabytes) MiB tmpfs at \(directory.sub("mnt"))")
        }
    }

    deinit { _ = Self.run(["umount", "-l", directory.sub("mnt")]) }

    /// Fills the disk with a file until `leaving` bytes are left (or fewer).
    public func fill(leaving: Int) throws {
        let fd = open(path + "/ballast", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw MountFailed(description: "cannot create \(path)/ballast") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5a, count: 16 << 10)
        while available() > leaving + chunk.count {
            guard chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == chunk.count else { break }
        }
    }

    /// Frees the space `fill` took.
    public func emptyBallast() { unlink(path + "/ballast") }

    /// Bytes still free on the disk.
    public func available() -> Int {
        var fs = statvfs()
        statvfs(path, &fs)
        return Int(fs.f_bavail) * Int(fs.f_frsize)
    }

    @discardableResult
    static func run(_ arguments: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? ChildProcesses.start(p)) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Whether this process may mount a tmpfs (it must be root, and allowed to).
    public static let permitted: Bool = {
        guard getuid() == 0, let probe = try? SmallDisk(megabytes: 1) else { return false }
        _ = probe
        return true
    }()
}
