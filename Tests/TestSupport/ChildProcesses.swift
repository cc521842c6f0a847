import Foundation

/// Pipes and child processes for tests that run in parallel.
///
/// Foundation's `Process` on Linux lets a child inherit every descriptor the test process has open.
/// A pipe one test makes therefore leaks into the children other tests start at the same moment; a
/// long-lived child (a `kj serve` of an acceptance test) then holds that pipe's write end, and the
/// first test waits for an end of file until the server exits, minutes later. Measured: with one
/// thread starting `sleep 3` children, about one `cat` in two hundred on another thread waited the
/// whole three seconds for its end of file. Pipes made here are close-on-exec from the start (the
/// child's copies on 0, 1 and 2 are duplicates, which never are), and a child starts only while no
/// pipe is half made.
public enum ChildProcesses {
    private static let lock = NSLock()

    /// A pipe whose two ends no child inherits unless it is given them as standard input or output.
    public static func pipe() -> Pipe {
        lock.withLock {
            let pipe = Pipe()
            for fd in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
                _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
            }
            return pipe
        }
    }

    /// Starts `process`, never while another test's pipe is being made.
    public static func start(_ process: Process) throws {
        try lock.withLock { try process.run() }
    }
}
