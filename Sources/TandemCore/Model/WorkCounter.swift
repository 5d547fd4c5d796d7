import Synchronization

/// Counts the elements that validation examines, so a test can check how validation grows with its input by counting
/// rather than by timing: set `WorkCounter.current` for a task, validate, read `count`. Each lookup adds the number of
/// elements it looks at (one for a set or dictionary, the whole list for a scan). Nothing is counted when no counter
/// is set, which is always the case outside tests.
public final class WorkCounter: Sendable {
    @TaskLocal public static var current: WorkCounter?

    private let total = Mutex(0)

    public init() {}

    /// Elements examined so far.
    public var count: Int { self.total.withLock { $0 } }

    /// Adds `elements` to the task's counter, if it has one.
    public static func record(_ elements: Int) {
        guard let counter = Self.current else { return }
        counter.total.withLock { $0 += elements }
    }
}
