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
    /// Latest state per task id, newest first.
    func list(_ query: ResultQuery) async throws -> [TaskResult]
    /// Every attempt of one task id, in attempt order; empty when the id is unknown.
    func attempts(of id: String) async throws -> [TaskResult]
    /// Attempts stored after `sequence` (see `lastSequence`), oldest first.
    func attempts(after sequence: Int64, limit: Int) async throws -> [SequencedResult]
    /// The sequence number of the most recently stored attempt (0 when there is none).
    func lastSequence() async throws -> Int64
    /// Final results since `since`: the rows `ResultStatistics` summarises.
    func finalResults(since: Date?) async throws -> [StatisticsSample]
    /// Deletes at most `limit` rows (of each table) whose time is before `cutoff`; returns how many went.
    func deleteResults(before cutoff: Date, limit: Int) async throws -> Int
    /// How many task ids and how many attempts are stored.
    func counts() async throws -> StoredCounts
    /// The schema version the store is at.
    func schemaVersion() async throws -> Int
    /// Releases connections.
    func close() async
}

/// Filters of `warren results list` and `GET /api/results`.
public struct ResultQuery: Sendable, Equatable {
    public var task: String?
    public var schedule: String?
    public var status: ResultStatus?
    public var queue: String?
    /// Only results whose time (finished, else started, else stored) is at or after this.
    public var since: Date?
    /// Only results older than this (for paging back).
    public var before: Date?
    public var limit: Int

    public init(task: String? = nil, schedule: String? = nil, status: ResultStatus? = nil, queue: String? = nil,
                since: Date? = nil, before: Date? = nil, limit: Int = 50) {
        self.task = task
        self.schedule = schedule
        self.status = status
        self.queue = queue
        self.since = since
        self.before = before
        self.limit = limit
    }
}

/// A stored attempt and its place in storage order (what `warren results tail` follows).
public struct SequencedResult: Sendable, Equatable {
    public var sequence: Int64
    public var result: TaskResult
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
    public var durationMs: Int64?

    public init(task: String, schedule: String?, status: ResultStatus, durationMs: Int64?) {
        self.task = task
        self.schedule = schedule
        self.status = status
        self.durationMs = durationMs
    }
}

/// A store that cannot be used; `description` says why in one line.
public struct ResultStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
