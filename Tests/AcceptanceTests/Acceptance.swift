import Testing

/// The acceptance suites, one test at a time. Each test holds a served cluster and blocks its
/// thread while it waits for kubectl or the server; on two cores two of them at once held both of
/// the cooperative pool's threads for minutes, and every in-process test (its timers, its time
/// limit) waited for a thread meanwhile.
@Suite(.serialized) enum Acceptance {}
