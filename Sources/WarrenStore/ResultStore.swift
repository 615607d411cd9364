import Foundation
import WarrenCore

/// Where `warren backend` keeps results and `warren results` reads them. Every write is an
/// idempotent upsert: storing the same result twice leaves one record.
///
/// Two tables: one row per attempt (`id`, `attempt`), and one row per task id holding its
/// latest state (highest attempt; a final status beats `retrying`; then the later time).
public protocol ResultStore: Sendable {
    /// Stores a batch in one transaction; returns once it is committed.
    func store(_ batch: [TaskResult]) async throws
    /// Latest state per task id, newest first, with the cursor of the page after it.
    func page(_ query: ResultQuery) async throws -> ResultPage
    /// The latest state of one task id, or nil when it is unknown.
    func latest(of id: String) async throws -> TaskResult?
    /// Every attempt of one task id, in attempt order; empty when the id is unknown.
    func attempts(of id: String) async throws -> [TaskResult]
    /// Attempts stored after `sequence` (see `lastSequence`), oldest first.
    func attempts(after sequence: Int64, limit: Int) async throws -> [SequencedResult]
    /// The sequence number of the most recently stored attempt (0 when there is none).
    func lastSequence() async throws -> Int64
    /// Final results since `since`: the rows `ResultStatistics` summarises.
    func finalResults(since: Date?) async throws -> [StatisticsSample]
    /// Final results per minute since `since`: succeeded and not succeeded (the dashboard's chart).
    func runsPerMinute(since: Date) async throws -> [MinuteCounts]
    /// Names of the schedules with a result since `since`.
    func schedules(since: Date) async throws -> [String]
    /// Deletes at most `limit` rows (of each table) whose time is before `cutoff`; returns how many went.
    func deleteResults(before cutoff: Date, limit: Int) async throws -> Int
    /// How many task ids and how many attempts are stored.
    func counts() async throws -> StoredCounts
    /// The workflow run `id` as the coordinator last saved it; nil when the store has none.
    func workflowRun(_ id: String) async throws -> WorkflowRun?
    /// Saves `run`, replacing what was saved under its id.
    func saveWorkflowRun(_ run: WorkflowRun) async throws
    /// The latest state of each of `ids` that has a result (the steps of a workflow run).
    func latest(ofIDs ids: [String]) async throws -> [TaskResult]
    /// The schema version the store is at.
    func schemaVersion() async throws -> Int
    /// Releases connections.
    func close() async
}

extension ResultStore {
    /// Latest state per task id, newest first.
    public func list(_ query: ResultQuery) async throws -> [TaskResult] { try await page(query).results }
}

/// One page of `list`: the results and, when the page is full, where the next one starts.
public struct ResultPage: Sendable, Equatable {
    public var results: [TaskResult]
    public var next: ResultCursor?

    public init(results: [TaskResult], next: ResultCursor?) {
        self.results = results
        self.next = next
    }
}

/// A position in the newest-first order of `list`: the row's time and id. Written as
/// `AT_MS.ID` in URLs.
public struct ResultCursor: Sendable, Equatable {
    public var atMs: Int64
    public var id: String

    public init(atMs: Int64, id: String) {
        self.atMs = atMs
        self.id = id
    }

    public init?(text: String) {
        // By bytes: an id may start with a combining mark, which joins the dot into one Character.
        let bytes = Array(text.utf8)
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), let atMs = Int64(String(decoding: bytes[..<dot], as: UTF8.self)) else { return nil }
        self.init(atMs: atMs, id: String(decoding: bytes[(dot + 1)...], as: UTF8.self))
    }

    public var text: String { "\(atMs).\(id)" }
}

/// Filters of `warren results list` and `GET /api/results`.
public struct ResultQuery: Sendable, Equatable {
    public var task: String?
    public var schedule: String?
    public var status: ResultStatus?
    public var queue: String?
    /// Only tasks published in this batch (`x-warren-batch`).
    public var batch: String?
    /// Only results whose time (finished, else started, else stored) is at or after this.
    public var since: Date?
    /// Only results older than this.
    public var before: Date?
    /// Only results after this position (the `next` of the previous page).
    public var after: ResultCursor?
    public var limit: Int

    public init(task: String? = nil, schedule: String? = nil, status: ResultStatus? = nil, queue: String? = nil,
                batch: String? = nil, since: Date? = nil, before: Date? = nil, after: ResultCursor? = nil, limit: Int = 50) {
        self.task = task
        self.schedule = schedule
        self.status = status
        self.queue = queue
        self.batch = batch
        self.since = since
        self.before = before
        self.after = after
        self.limit = limit
    }
}

/// A stored attempt and its place in storage order (what `warren results tail` follows).
public struct SequencedResult: Sendable, Equatable {
    public var sequence: Int64
    public var result: TaskResult
}

/// Final results of one minute.
public struct MinuteCounts: Sendable, Equatable {
    /// Start of the minute, milliseconds since the epoch.
    public var minuteMs: Int64
    public var succeeded: Int
    /// `failed`, `timed_out`, `expired`, `rejected` (`ResultStatus.isFailure`).
    public var failed: Int
    public var cancelled: Int

    public init(minuteMs: Int64, succeeded: Int, failed: Int, cancelled: Int = 0) {
        self.minuteMs = minuteMs
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled
    }
}

/// Row counts of a store.
public struct StoredCounts: Sendable, Equatable {
    public var tasks: Int
    public var attempts: Int

    public init(tasks: Int, attempts: Int) {
        self.tasks = tasks
        self.attempts = attempts
    }
}

/// The columns statistics are computed from.
public struct StatisticsSample: Sendable, Equatable {
    public var task: String
    public var schedule: String?
    public var status: ResultStatus
    /// Run time.
    public var durationMs: Int64?
    public var queue: String
    /// Started − entered its queue (`published_at`); nil when either is unknown.
    public var queueWaitMs: Int64?
    /// Finished − entered its queue; nil when either is unknown.
    public var endToEndMs: Int64?

    public init(task: String, schedule: String?, status: ResultStatus, durationMs: Int64?, queue: String = "",
                queueWaitMs: Int64? = nil, endToEndMs: Int64? = nil) {
        self.task = task
        self.schedule = schedule
        self.status = status
        self.durationMs = durationMs
        self.queue = queue
        self.queueWaitMs = queueWaitMs
        self.endToEndMs = endToEndMs
    }

    /// A sample from a stored row's columns, its waits derived from the three instants (a
    /// negative one, from clocks apart between hosts, counts as 0).
    init?(task: String, schedule: String?, status: String, durationMs: Int64?, queue: String,
          publishedAt: String?, startedAt: String?, finishedAt: String?) {
        guard let status = ResultStatus(rawValue: status) else { return nil }
        let published = publishedAt.flatMap(ResultTime.milliseconds)
        func since(_ instant: String?) -> Int64? {
            guard let published, let end = instant.flatMap(ResultTime.milliseconds) else { return nil }
            return max(0, end - published)
        }
        self.init(task: task, schedule: schedule, status: status, durationMs: durationMs, queue: queue,
                  queueWaitMs: since(startedAt), endToEndMs: since(finishedAt))
    }

    /// What both stores select for a sample, in this initializer's order.
    static let columns = "task, schedule, status, duration_ms, queue, published_at, started_at, finished_at"
}

/// A store that cannot be used; `description` says why in one line.
public struct ResultStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    /// The store refuses the data itself (a value out of range, bytes it cannot hold): writing
    /// it again cannot succeed, unlike an outage (server down, disk full, read-only).
    public let refusesData: Bool
    public init(_ description: String, refusesData: Bool = false) {
        self.description = description
        self.refusesData = refusesData
    }
}

extension ResultPage {
    /// A page from `(at_ms, JSON)` rows; full pages get the cursor of their last row.
    init(rows: [(Int64, String)], limit: Int) throws {
        let results = try rows.map { try TaskResult.decode(Data($0.1.utf8)) }
        let last = rows.last.map { ResultCursor(atMs: $0.0, id: results[results.count - 1].id) }
        self.init(results: results, next: rows.count == limit && limit > 0 ? last : nil)
    }
}
