/// How an attempt of a task ended (SPEC §4).
public enum ResultStatus: String, Sendable, CaseIterable {
    case succeeded, failed, retrying
    case timedOut = "timed_out"
    case cancelled, expired, rejected
    /// A schedule's fire that did not run, recorded by the scheduler: `error` says why
    /// (`paused`, `overlap`, `catchup-skip`, each possibly followed by `: DETAIL`).
    case skipped
    /// A schedule's fire older than its `catchup_window` when a scheduler came to it, never run;
    /// recorded by the scheduler.
    case missed

    /// Whether no further attempt of the task will follow.
    public var isFinal: Bool { self != .retrying }

    /// Whether the run failed: `failed`, `timed_out`, `expired`, `rejected` (not `cancelled`: an
    /// operator's choice).
    public var isFailure: Bool { self == .failed || self == .timedOut || self == .expired || self == .rejected }

    /// `'failed', 'timed_out', …`: the failure statuses as an SQL list.
    public static let failureSQLList = allCases.filter(\.isFailure).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// Whether this records a fire that did not run (`skipped`, `missed`) rather than a run: such
    /// a record ranks below any run of the same id, and statistics leave it out.
    public var isFireRecord: Bool { self == .skipped || self == .missed }
}
