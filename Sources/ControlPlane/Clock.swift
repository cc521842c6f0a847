import Foundation
import Journal
import Synchronization

/// Where components get the time. Decision logic never reads the system clock directly: live runs
/// use `WallClock`, simulations and tests a clock they move themselves.
public protocol ClusterClock: Sendable {
    func now() -> Timestamp
}

/// The system clock, in microseconds.
public struct WallClock: ClusterClock {
    public init() {}

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// A clock that moves only when told to (tests and simulations).
public final class ManualClock: ClusterClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    public func advance(microseconds: Int64) {
        current.withLock { $0 = $0.adding(microseconds: microseconds) }
    }

    public func advance(seconds: Double) { advance(microseconds: Int64(seconds * 1_000_000)) }

    public func set(_ t: Timestamp) { current.withLock { $0 = t } }
}
