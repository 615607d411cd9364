/// How an attempt of a task ended (SPEC §4).
public enum ResultStatus: String, Sendable, CaseIterable {
    case succeeded, failed, retrying
    case timedOut = "timed_out"
    case cancelled, expired, rejected
    /// A schedule's fire that did not run, recorded by the scheduler: `error` says why
    /// (`paused`, `overlap`; `paused: REASON` when the pause gave one).
    case skipped

    /// Whether no further attempt of the task will follow.
    public var isFinal: Bool { self != .retrying }
}
