import Foundation
import GRDB
import WarrenCore

/// Results in an SQLite file through GRDB: WAL journal (readers never block the writer),
/// `synchronous = FULL` (a commit survives power loss before the backend acks).
public final class SQLiteResultStore: ResultStore {
    let pool: DatabasePool
    private let path: String

    /// Opens the file for `warren backend`: creates it if needed and migrates the schema.
    public static func openForWriting(path: String) throws -> SQLiteResultStore {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteSchema.migrator.migrate(pool)
        return SQLiteResultStore(pool: pool, path: path)
    }

    /// Opens an existing file read-only, for `warren results`.
    public static func openForReading(path: String) throws -> SQLiteResultStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ResultStoreError("sqlite:\(path): no such file (has `warren backend --store sqlite:\(path)` run?)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        let store = SQLiteResultStore(pool: pool, path: path)
        try pool.read { db in
            let migrator = SQLiteSchema.migrator
            if try migrator.hasBeenSuperseded(db) {
                throw ResultStoreError("sqlite:\(path): written by a newer Warren (schema newer than this build knows)")
            }
            if try !migrator.hasCompletedMigrations(db) {
                throw ResultStoreError("sqlite:\(path): schema not up to date; start `warren backend` on it once to migrate")
            }
        }
        return store
    }

    private init(pool: DatabasePool, path: String) {
        self.pool = pool
        self.path = path
    }

    public func store(_ batch: [TaskResult]) async throws {
        guard !batch.isEmpty else { return }
        let rows = StorageBatch(batch, storedAt: Date())
        let storedMs = ResultTime.milliseconds(Date())
        do {
            try await write(rows, storedMs: storedMs)
        } catch let error as DatabaseError where [.SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_CONSTRAINT, .SQLITE_RANGE].contains(error.resultCode) {
            // The data itself, not the database's state: writing it again cannot succeed.
            throw ResultStoreError("SQLite refused the data: \(error.message ?? "\(error.resultCode)")", refusesData: true)
        }
    }

    private func write(_ rows: StorageBatch, storedMs: Int64) async throws {
        try await pool.write { db in
            let placeholders = Array(repeating: "?", count: ResultColumns.written.count).joined(separator: ", ")
            let columns = ResultColumns.written.joined(separator: ", ")
            let attempt = try db.cachedStatement(sql: """
                INSERT INTO warren_result_attempts AS existing (\(columns)) VALUES (\(placeholders))
                ON CONFLICT (\(ResultColumns.attemptKey)) DO UPDATE SET \(ResultColumns.updateAssignments(excluding: ["id", "attempt", "run_id"]))
                WHERE (excluded.final, excluded.at_ms) >= (existing.final, existing.at_ms)
                """)
            for row in rows.attempts { try attempt.execute(arguments: Self.arguments(row, storedMs: storedMs)) }
            let latest = try db.cachedStatement(sql: """
                INSERT INTO warren_results AS existing (\(columns)) VALUES (\(placeholders))
                ON CONFLICT (id) DO UPDATE SET \(ResultColumns.updateAssignments(excluding: ["id"]))
                WHERE (excluded.attempt, excluded.final, excluded.at_ms) >= (existing.attempt, existing.final, existing.at_ms)
                """)
            for row in rows.latest { try latest.execute(arguments: Self.arguments(row, storedMs: storedMs)) }
        }
    }

    private static func arguments(_ row: StoredRow, storedMs: Int64) -> StatementArguments {
        let result = row.result
        let values: [(any DatabaseValueConvertible)?] = [
            result.id, result.task, result.queue, result.schedule, result.scheduledFor, result.attempt, result.status.rawValue,
            row.isFinal ? 1 : 0, result.worker, result.startedAt, result.finishedAt, result.durationMs,
            result.exitCode.map { Int64($0) }, result.output, result.error, row.resultJSON, row.atMs, storedMs, result.traceparent,
            row.runKey, result.redelivered ? 1 : 0, result.trigger, row.argsJSON, result.batch, result.publishedAt,
        ]
        return StatementArguments(values)
    }

    static let selectJSON = "json_object(\(ResultColumns.jsonObjectArguments(json: { "json(\($0))" }, bool: { "json(CASE WHEN \($0) THEN 'true' ELSE 'false' END)" })))"

    public func page(_ query: ResultQuery) async throws -> ResultPage {
        let filter = ResultFilter(query) { _ in "?" }
        let sql = "SELECT at_ms, \(Self.selectJSON) FROM warren_results \(filter.whereClause) ORDER BY at_ms DESC, id LIMIT \(max(query.limit, 0))"
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(filter.values)).map { (row: Row) -> (Int64, String) in (row[0], row[1]) }
        }
        return try ResultPage(rows: rows, limit: query.limit)
    }

    public func latest(of id: String) async throws -> TaskResult? {
        let sql = "SELECT \(Self.selectJSON) FROM warren_results WHERE id = ?"
        let text = try await pool.read { db in try String.fetchOne(db, sql: sql, arguments: [id]) }
        return try text.map { try TaskResult.decode(Data($0.utf8)) }
    }

    public func attempts(of id: String) async throws -> [TaskResult] {
        let sql = "SELECT \(Self.selectJSON) FROM warren_result_attempts WHERE id = ? ORDER BY \(ResultColumns.attemptOrder)"
        let texts = try await pool.read { db in try String.fetchAll(db, sql: sql, arguments: [id]) }
        return try texts.map { try TaskResult.decode(Data($0.utf8)) }
    }

    public func attempts(after sequence: Int64, limit: Int) async throws -> [SequencedResult] {
        let sql = "SELECT seq, \(Self.selectJSON) FROM warren_result_attempts WHERE seq > ? ORDER BY seq LIMIT ?"
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [sequence, limit]).map { (row: Row) -> (Int64, String) in (row[0], row[1]) }
        }
        return try rows.map { SequencedResult(sequence: $0.0, result: try TaskResult.decode(Data($0.1.utf8))) }
    }

    public func lastSequence() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM warren_result_attempts") ?? 0 }
    }

    public func finalResults(since: Date?) async throws -> [StatisticsSample] {
        let sinceMs = since.map(ResultTime.milliseconds) ?? Int64.min
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(StatisticsSample.columns) FROM warren_results WHERE final = 1 AND at_ms >= ?",
                             arguments: [sinceMs])
                .compactMap { (row: Row) -> StatisticsSample? in
                    StatisticsSample(task: row[0], schedule: row[1], status: row[2], durationMs: row[3], queue: row[4],
                                     publishedAt: row[5], startedAt: row[6], finishedAt: row[7])
                }
        }
    }

    public func runsPerMinute(since: Date) async throws -> [MinuteCounts] {
        let sinceMs = ResultTime.milliseconds(since)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT (at_ms / 60000) * 60000 AS minute, sum(status = 'succeeded'), sum(status IN (\(ResultStatus.failureSQLList))),
                    sum(status = 'cancelled')
                FROM warren_results WHERE at_ms >= ? AND final = 1 GROUP BY minute ORDER BY minute
                """, arguments: [sinceMs]).map { (row: Row) in MinuteCounts(minuteMs: row[0], succeeded: row[1], failed: row[2], cancelled: row[3]) }
        }
    }

    public func schedules(since: Date) async throws -> [String] {
        let sinceMs = ResultTime.milliseconds(since)
        return try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT schedule FROM warren_results WHERE at_ms >= ? AND schedule IS NOT NULL ORDER BY schedule",
                                arguments: [sinceMs])
        }
    }

    public func deleteResults(before cutoff: Date, limit: Int) async throws -> Int {
        let cutoffMs = ResultTime.milliseconds(cutoff)
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM warren_results WHERE id IN (SELECT id FROM warren_results WHERE at_ms < ? LIMIT ?)",
                           arguments: [cutoffMs, limit])
            let latest = db.changesCount
            try db.execute(sql: "DELETE FROM warren_result_attempts WHERE seq IN (SELECT seq FROM warren_result_attempts WHERE at_ms < ? LIMIT ?)",
                           arguments: [cutoffMs, limit])
            let attempts = db.changesCount
            try db.execute(sql: "DELETE FROM warren_workflow_runs WHERE id IN (SELECT id FROM warren_workflow_runs WHERE updated_ms < ? LIMIT ?)",
                           arguments: [cutoffMs, limit])
            return max(latest, attempts, db.changesCount)
        }
    }

    public func counts() async throws -> StoredCounts {
        try await pool.read { db in
            StoredCounts(tasks: try Int.fetchOne(db, sql: "SELECT count(*) FROM warren_results") ?? 0,
                         attempts: try Int.fetchOne(db, sql: "SELECT count(*) FROM warren_result_attempts") ?? 0)
        }
    }

    public func schemaVersion() async throws -> Int {
        try await pool.read { db in try SQLiteSchema.migrator.appliedMigrations(db).count }
    }

    public func close() async {
        try? pool.close()
    }

    private static func arguments(_ values: [ResultFilter.Value]) -> StatementArguments {
        StatementArguments(values.map { value -> any DatabaseValueConvertible in
            switch value {
            case .text(let text): return text
            case .integer(let number): return number
            }
        })
    }
}
