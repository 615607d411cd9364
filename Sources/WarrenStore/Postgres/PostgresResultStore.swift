import Foundation
import Logging
import PostgresNIO
import WarrenCore

/// Results in PostgreSQL through postgres-nio's connection pool. A batch travels as one JSON
/// array expanded by `jsonb_to_recordset` into two upserts: one round trip per table.
public final class PostgresResultStore: ResultStore {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    /// Passed to postgres-nio (errors only).
    let logger: Logger
    /// Warren's own lines about the store.
    private let storeLogger: Logger
    private let address: PostgresAddress

    /// Connects, and migrates the schema when `migrate` (the backend) or checks it is current
    /// (readers).
    public static func open(_ address: PostgresAddress, migrate: Bool, logger: Logger) async throws -> PostgresResultStore {
        // postgres-nio's own warnings repeat what the store reports in one line.
        var clientLogger = logger
        clientLogger.logLevel = max(logger.logLevel, .error)
        let tls: PostgresClient.Configuration.TLS = address.requireTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(host: address.host, port: address.port, username: address.user,
                                                         password: address.password, database: address.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 4
        let store = PostgresResultStore(client: PostgresClient(configuration: configuration, backgroundLogger: clientLogger),
                                        logger: clientLogger, storeLogger: logger, address: address)
        // A direct connection first: the pool would keep an unreachable server's error to itself.
        if let problem = await store.probe() {
            await store.close()
            throw ResultStoreError("\(address): \(problem)")
        }
        do {
            try await store.run { if migrate { try await store.migrate() } else { try await store.checkSchema() } }
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private init(client: PostgresClient, logger: Logger, storeLogger: Logger, address: PostgresAddress) {
        self.client = client
        self.logger = logger
        self.storeLogger = storeLogger
        self.address = address
        runner = Task { await client.run() }
    }

    private func failure(_ error: any Error) -> ResultStoreError {
        if let error = error as? ResultStoreError { return error }
        return ResultStoreError("\(address): \(PostgresErrorText.describe(error))", refusesData: PostgresErrorText.refusesData(error))
    }

    /// Longest a store operation may take. postgres-nio's pool keeps a request waiting while it
    /// cannot connect; past this the operation fails with the reason a direct connection gives.
    /// 30 s: on a machine whose cores are all busy (a server sharing two cores with the broker)
    /// creating a database and migrating it took over 10 s; an outage is still reported, and
    /// the backend keeps retrying either way.
    static let operationTimeout: Duration = .seconds(30)

    /// Runs `body` within `operationTimeout`, turning PostgreSQL errors into one-line
    /// `ResultStoreError`s.
    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask { do { return .success(try await body()) } catch { return .failure(error) } }
            group.addTask {
                try? await Task.sleep(for: Self.operationTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let value)?: return value
        case .failure(let error)?: throw failure(error)
        case nil: throw ResultStoreError("\(address): \(await probe() ?? "no answer within \(Self.operationTimeout)")")
        }
    }

    /// Why a direct connection to the server fails, or nil when it succeeds.
    private func probe() async -> String? {
        let tls: PostgresConnection.Configuration.TLS = address.requireTLS ? .require(try! .init(configuration: .makeClientConfiguration())) : .disable
        var configuration = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.user,
                                                             password: address.password, database: address.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            return PostgresErrorText.describe(error)
        }
    }

    private func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS warren_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            let current = try await Self.version(on: connection, logger: logger)
            guard current <= PostgresSchema.migrations.count else {
                throw ResultStoreError("\(address): written by a newer Warren (schema \(current), this build knows \(PostgresSchema.migrations.count))")
            }
            for version in (current + 1)...max(current + 1, PostgresSchema.migrations.count) where version <= PostgresSchema.migrations.count {
                for statement in PostgresSchema.migrations[version - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO warren_schema (version) VALUES (\(version))", logger: logger)
                storeLogger.info("result store migrated", metadata: ["store": "\(address)", "schema_version": "\(version)"])
            }
        }
    }

    private func checkSchema() async throws {
        let version = try await client.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass('warren_schema') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            return exists ? try await Self.version(on: connection, logger: logger) : 0
        }
        guard version == PostgresSchema.migrations.count else {
            throw ResultStoreError(version < PostgresSchema.migrations.count
                ? "\(address): schema not up to date; start `warren backend` on it once to migrate"
                : "\(address): written by a newer Warren (schema newer than this build knows)")
        }
    }

    private static func version(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM warren_schema", logger: logger).collect()
        return Int(try rows.first?.decode(Int32.self) ?? 0)
    }

    public func store(_ batch: [TaskResult]) async throws {
        guard !batch.isEmpty else { return }
        let rows = StorageBatch(batch, storedAt: Date())
        let storedMs = ResultTime.milliseconds(Date())
        let attempts = Self.recordsetJSON(rows.attempts, storedMs: storedMs)
        let latest = Self.recordsetJSON(rows.latest, storedMs: storedMs)
        let columns = ResultColumns.written.joined(separator: ", ")
        let (client, logger) = (self.client, self.logger)
        return try await run {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO warren_result_attempts AS existing (\(columns))
                    SELECT \(columns) FROM jsonb_to_recordset($1::text::jsonb) AS r(\(PostgresSchema.recordsetColumns))
                    ON CONFLICT (\(ResultColumns.attemptKey)) DO UPDATE SET \(ResultColumns.updateAssignments(excluding: ["id", "attempt", "run_id"]))
                    WHERE (excluded.final, excluded.at_ms) >= (existing.final, existing.at_ms)
                    """, binds: Self.binds([attempts])), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO warren_results AS existing (\(columns))
                    SELECT \(columns) FROM jsonb_to_recordset($1::text::jsonb) AS r(\(PostgresSchema.recordsetColumns))
                    ON CONFLICT (id) DO UPDATE SET \(ResultColumns.updateAssignments(excluding: ["id"]))
                    WHERE (excluded.attempt, excluded.final, excluded.at_ms) >= (existing.attempt, existing.final, existing.at_ms)
                    """, binds: Self.binds([latest])), logger: logger)
            }
        }
    }

    /// The rows as a JSON array of objects keyed by column.
    static func recordsetJSON(_ rows: [StoredRow], storedMs: Int64) -> String {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var json = "["
        for (index, row) in rows.enumerated() {
            let result = row.result
            let object: JSONValue = .object([
                "id": text(result.id), "task": text(result.task), "queue": text(result.queue), "schedule": text(result.schedule),
                "scheduled_for": text(result.scheduledFor), "attempt": .integer(Int64(result.attempt)),
                "status": .string(result.status.rawValue), "final": .bool(row.isFinal), "worker": text(result.worker),
                "started_at": text(result.startedAt), "finished_at": text(result.finishedAt),
                "duration_ms": result.durationMs.map(JSONValue.integer) ?? .null,
                "exit_code": result.exitCode.map { .integer(Int64($0)) } ?? .null, "output": text(result.output),
                "error": text(result.error), "result": text(row.resultJSON), "at_ms": .integer(row.atMs), "stored_ms": .integer(storedMs),
                "traceparent": text(result.traceparent), "run_id": .string(row.runKey), "redelivered": .bool(result.redelivered),
                "trigger": text(result.trigger), "args": text(row.argsJSON), "batch": text(result.batch), "published_at": text(result.publishedAt),
            ])
            if index > 0 { json += "," }
            JSONText.write(object, into: &json)
        }
        return json + "]"
    }

    private static func binds(_ texts: [String]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: texts.count)
        for text in texts { bindings.append(text) }
        return bindings
    }

    static let selectJSON = "json_build_object(\(ResultColumns.jsonObjectArguments(json: { "\($0)::json" }, bool: { $0 })))::text"

    func fetchResults(_ query: PostgresQuery) async throws -> [TaskResult] {
        let (client, logger) = (self.client, self.logger)
        return try await run {
            var results: [TaskResult] = []
            for try await text in try await client.query(query, logger: logger).decode(String.self) {
                results.append(try TaskResult.decode(Data(text.utf8)))
            }
            return results
        }
    }

    public func page(_ query: ResultQuery) async throws -> ResultPage {
        let filter = ResultFilter(query) { "$\($0)" }
        let sql = "SELECT at_ms, \(Self.selectJSON) FROM warren_results \(filter.whereClause) ORDER BY at_ms DESC, id LIMIT \(max(query.limit, 0))"
        let postgresQuery = PostgresQuery(unsafeSQL: sql, binds: Self.binds(filter.values))
        let (client, logger) = (self.client, self.logger)
        let rows = try await run {
            var rows: [(Int64, String)] = []
            for try await row in try await client.query(postgresQuery, logger: logger).decode((Int64, String).self) { rows.append(row) }
            return rows
        }
        return try ResultPage(rows: rows, limit: query.limit)
    }

    public func latest(of id: String) async throws -> TaskResult? {
        try await fetchResults("SELECT \(unescaped: Self.selectJSON) FROM warren_results WHERE id = \(id)").first
    }

    public func attempts(of id: String) async throws -> [TaskResult] {
        try await fetchResults("SELECT \(unescaped: Self.selectJSON) FROM warren_result_attempts WHERE id = \(id) ORDER BY \(unescaped: ResultColumns.attemptOrder)")
    }

    public func attempts(after sequence: Int64, limit: Int) async throws -> [SequencedResult] {
        let (client, logger) = (self.client, self.logger)
        return try await run {
            let query: PostgresQuery = """
                SELECT seq, \(unescaped: Self.selectJSON) FROM warren_result_attempts WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)
                """
            var results: [SequencedResult] = []
            for try await (seq, text) in try await client.query(query, logger: logger).decode((Int64, String).self) {
                results.append(SequencedResult(sequence: seq, result: try TaskResult.decode(Data(text.utf8))))
            }
            return results
        }
    }

    public func lastSequence() async throws -> Int64 {
        let (client, logger) = (self.client, self.logger)
        return try await run {
            for try await value in try await client.query("SELECT coalesce(max(seq), 0)::bigint FROM warren_result_attempts", logger: logger)
                .decode(Int64.self) { return value }
            return 0
        }
    }

    public func finalResults(since: Date?) async throws -> [StatisticsSample] {
        let sinceMs = since.map(ResultTime.milliseconds) ?? Int64.min
        let (client, logger) = (self.client, self.logger)
        return try await run {
            var samples: [StatisticsSample] = []
            let rows = try await client.query(
                "SELECT \(unescaped: StatisticsSample.columns) FROM warren_results WHERE final AND at_ms >= \(sinceMs)", logger: logger)
            for try await (task, schedule, status, duration, queue, published, started, finished)
                in rows.decode((String, String?, String, Int64?, String, String?, String?, String?).self) {
                if let sample = StatisticsSample(task: task, schedule: schedule, status: status, durationMs: duration, queue: queue,
                                                 publishedAt: published, startedAt: started, finishedAt: finished) {
                    samples.append(sample)
                }
            }
            return samples
        }
    }

    public func runsPerMinute(since: Date) async throws -> [MinuteCounts] {
        let sinceMs = ResultTime.milliseconds(since)
        let (client, logger) = (self.client, self.logger)
        return try await run {
            let query = PostgresQuery(unsafeSQL: """
                SELECT (at_ms / 60000) * 60000 AS minute, count(*) FILTER (WHERE status = 'succeeded'),
                    count(*) FILTER (WHERE status IN (\(ResultStatus.failureSQLList))), count(*) FILTER (WHERE status = 'cancelled')
                FROM warren_results WHERE at_ms >= \(sinceMs) AND final GROUP BY minute ORDER BY minute
                """)
            var minutes: [MinuteCounts] = []
            for try await (minute, succeeded, failed, cancelled) in try await client.query(query, logger: logger).decode((Int64, Int64, Int64, Int64).self) {
                minutes.append(MinuteCounts(minuteMs: minute, succeeded: Int(succeeded), failed: Int(failed), cancelled: Int(cancelled)))
            }
            return minutes
        }
    }

    public func schedules(since: Date) async throws -> [String] {
        let sinceMs = ResultTime.milliseconds(since)
        let (client, logger) = (self.client, self.logger)
        return try await run {
            var names: [String] = []
            let query: PostgresQuery = "SELECT DISTINCT schedule FROM warren_results WHERE at_ms >= \(sinceMs) AND schedule IS NOT NULL ORDER BY schedule"
            for try await name in try await client.query(query, logger: logger).decode(String.self) { names.append(name) }
            return names
        }
    }

    public func deleteResults(before cutoff: Date, limit: Int) async throws -> Int {
        let cutoffMs = ResultTime.milliseconds(cutoff)
        let (client, logger) = (self.client, self.logger)
        return try await run {
            try await client.withConnection { connection in
                let latest = try await connection.query("""
                    WITH gone AS (DELETE FROM warren_results WHERE id IN
                        (SELECT id FROM warren_results WHERE at_ms < \(cutoffMs) LIMIT \(limit)) RETURNING 1)
                    SELECT count(*)::bigint FROM gone
                    """, logger: logger).collect().first?.decode(Int64.self) ?? 0
                let attempts = try await connection.query("""
                    WITH gone AS (DELETE FROM warren_result_attempts WHERE seq IN
                        (SELECT seq FROM warren_result_attempts WHERE at_ms < \(cutoffMs) LIMIT \(limit)) RETURNING 1)
                    SELECT count(*)::bigint FROM gone
                    """, logger: logger).collect().first?.decode(Int64.self) ?? 0
                let runs = try await connection.query("""
                    WITH gone AS (DELETE FROM warren_workflow_runs WHERE id IN
                        (SELECT id FROM warren_workflow_runs WHERE updated_ms < \(cutoffMs) LIMIT \(limit)) RETURNING 1)
                    SELECT count(*)::bigint FROM gone
                    """, logger: logger).collect().first?.decode(Int64.self) ?? 0
                return Int(max(latest, attempts, runs))
            }
        }
    }

    public func counts() async throws -> StoredCounts {
        let (client, logger) = (self.client, self.logger)
        return try await run {
            let query: PostgresQuery = "SELECT (SELECT count(*) FROM warren_results), (SELECT count(*) FROM warren_result_attempts)"
            for try await (tasks, attempts) in try await client.query(query, logger: logger).decode((Int64, Int64).self) {
                return StoredCounts(tasks: Int(tasks), attempts: Int(attempts))
            }
            return StoredCounts(tasks: 0, attempts: 0)
        }
    }

    public func schemaVersion() async throws -> Int {
        let (client, logger) = (self.client, self.logger)
        return try await run { try await client.withConnection { try await Self.version(on: $0, logger: logger) } }
    }

    public func close() async {
        runner.cancel()
        await runner.value
    }

    private static func binds(_ values: [ResultFilter.Value]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .integer(let number): bindings.append(number)
            }
        }
        return bindings
    }
}
