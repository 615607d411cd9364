import Foundation
import GRDB
import Logging
import Testing
import WarrenCore
@testable import WarrenStore
import WarrenTestSupport

@Suite("store addresses, precedence, times, percentiles (pure)")
struct StoreLogicTests {
    @Test("store addresses: sqlite and postgres forms; the password never shows")
    func addresses() throws {
        #expect(try StoreAddress(parsing: "sqlite:./warren-results.sqlite") == .sqlite(path: "./warren-results.sqlite"))
        #expect(try StoreAddress(parsing: "sqlite:///var/lib/warren/r.sqlite") == .sqlite(path: "/var/lib/warren/r.sqlite"))
        let postgres = try StoreAddress(parsing: "postgres://warren:p%40ss@db.internal:6432/results?sslmode=require")
        guard case .postgres(let address) = postgres else { Issue.record("not postgres"); return }
        #expect(address.user == "warren")
        #expect(address.password == "p@ss")
        #expect(address.host == "db.internal")
        #expect(address.port == 6432)
        #expect(address.database == "results")
        #expect(address.requireTLS)
        #expect("\(postgres)" == "postgres://warren:***@db.internal:6432/results?sslmode=require")
        let defaults = try StoreAddress(parsing: "postgresql://db/")
        #expect("\(defaults)" == "postgres://postgres@db:5432/postgres")
    }

    @Test("bad store addresses get one line saying what is expected", arguments: [
        ("mysql://x/y", "expected sqlite:PATH or postgres://USER@HOST:PORT/DATABASE"),
        ("sqlite:", "expected sqlite:PATH, e.g. sqlite:./warren-results.sqlite"),
        ("postgres:///db", "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"),
        ("postgres://h/db?pool=3", "unsupported URL parameter pool=3 (only sslmode=disable|require)"),
    ])
    func badAddresses(text: String, message: String) {
        #expect(throws: StoreAddressError(message)) { try StoreAddress(parsing: text) }
    }

    @Test("a batch keeps one row per (id, attempt) and one latest per id: higher attempt, then final, then later")
    func batchReduction() {
        let batch = StorageBatch([
            makeResult("a", attempt: 1, status: .retrying, finishedAt: "2026-11-23T10:00:00Z"),
            makeResult("a", attempt: 2, status: .succeeded, finishedAt: "2026-11-23T10:01:00Z"),
            makeResult("a", attempt: 1, status: .retrying, finishedAt: "2026-11-23T10:00:00Z"),
            makeResult("b", attempt: 1, status: .succeeded, finishedAt: "2026-11-23T09:00:00Z"),
            makeResult("b", attempt: 1, status: .retrying, finishedAt: "2026-11-23T09:30:00Z"),
        ], storedAt: Date(timeIntervalSince1970: 0))
        #expect(batch.attempts.map { "\($0.result.id)/\($0.result.attempt)/\($0.result.status.rawValue)" }
                == ["a/1/retrying", "a/2/succeeded", "b/1/succeeded"])
        #expect(batch.latest.map { "\($0.result.id)/\($0.result.attempt)/\($0.result.status.rawValue)" } == ["a/2/succeeded", "b/1/succeeded"])
    }

    @Test("a batch keeps one row per run: runs of one attempt apart, the same run once; no run id counts as one run")
    func batchRuns() {
        func run(_ id: String, _ runID: String?, _ status: ResultStatus, _ finishedAt: String) -> TaskResult {
            var result = makeResult(id, status: status, finishedAt: finishedAt)
            result.runID = runID
            return result
        }
        let batch = StorageBatch([
            run("a", "r1", .succeeded, "2026-11-23T10:00:00Z"),
            run("a", "r2", .succeeded, "2026-11-23T10:00:09Z"),
            run("a", "r1", .succeeded, "2026-11-23T10:00:00Z"),
            run("b", nil, .failed, "2026-11-23T10:00:00Z"),
            run("b", nil, .succeeded, "2026-11-23T10:00:01Z"),
        ], storedAt: Date(timeIntervalSince1970: 0))
        #expect(batch.attempts.map { "\($0.result.id)/\($0.runKey)/\($0.result.status.rawValue)" } == ["a/r1/succeeded", "a/r2/succeeded", "b//succeeded"])
        #expect(batch.latest.map { "\($0.result.id)/\($0.runKey)" } == ["a/r2", "b/"], "the run finished last")
    }

    @Test("a row's time is its finish, else its start, else when it was stored")
    func rowTime() {
        var result = TaskResult(id: "x", task: "t", queue: "q", attempt: 1, status: .expired)
        #expect(StoredRow(result, storedAtMs: 42).atMs == 42)
        result.startedAt = "2026-11-23T10:00:00.250Z"
        #expect(StoredRow(result, storedAtMs: 42).atMs == 1_795_428_000_250)
        result.finishedAt = "2026-11-23T11:00:00.5+01:00"
        #expect(StoredRow(result, storedAtMs: 42).atMs == 1_795_428_000_500)
        result.finishedAt = "yesterday"
        #expect(StoredRow(result, storedAtMs: 42).atMs == 1_795_428_000_250)
    }

    @Test("nearest-rank percentiles")
    func percentiles() {
        #expect(ResultStatistics.percentile(0.5, of: []) == nil)
        #expect(ResultStatistics.percentile(0.5, of: [7]) == 7)
        #expect(ResultStatistics.percentile(0.5, of: [1, 2, 3, 4]) == 2)
        #expect(ResultStatistics.percentile(0.95, of: Array(1...100)) == 95)
        #expect(ResultStatistics.percentile(0.95, of: Array(1...10)) == 10)
    }
}

@Suite("SQLite schema upgrade (real file)")
struct SQLiteUpgradeTests {
    /// A store file's path in a new temporary directory, and the directory.
    static func storeFile() throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory.appendingPathComponent("r.sqlite").path, directory)
    }

    @Test("a store at schema v1 is migrated on open; its rows are kept and the new column is null")
    func upgrade() async throws {
        let (path, directory) = try Self.storeFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try GRDB.DatabaseQueue(path: path)
        try SQLiteSchema.migrator.migrate(old, upTo: "v1")
        try await old.write { db in
            try db.execute(sql: """
                INSERT INTO warren_results (id, task, queue, attempt, status, final, at_ms, stored_ms)
                VALUES ('kept', 't', 'q', 1, 'succeeded', 1, 1000, 1000)
                """)
        }
        try old.close()
        let store = try SQLiteResultStore.openForWriting(path: path)
        let version = try await store.schemaVersion()
        let kept = try await store.list(ResultQuery())
        await store.close()
        #expect(version == 8)
        #expect(kept.map(\.id) == ["kept"])
        #expect(kept.first?.traceparent == nil)
    }

    @Test("a store at schema v2 (one row per attempt) is migrated to runs on open: rows, their sequence and the counter are kept")
    func upgradeToRuns() async throws {
        let (path, directory) = try Self.storeFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try GRDB.DatabaseQueue(path: path)
        try SQLiteSchema.migrator.migrate(old, upTo: "v2 traceparent")
        try await old.write { db in
            for (seq, id) in [(1, "gone"), (2, "kept"), (3, "newest")] {
                try db.execute(sql: """
                    INSERT INTO warren_result_attempts (seq, id, task, queue, attempt, status, final, at_ms, stored_ms, traceparent)
                    VALUES (?, ?, 't', 'q', 1, 'succeeded', 1, 1000, 1000, 'tp')
                    """, arguments: [seq, id])
                try db.execute(sql: """
                    INSERT INTO warren_results (id, task, queue, attempt, status, final, at_ms, stored_ms) VALUES (?, 't', 'q', 1, 'succeeded', 1, 1000, 1000)
                    """, arguments: [id])
            }
            // Retention took the newest attempt row: the counter must not hand out its number again.
            try db.execute(sql: "DELETE FROM warren_result_attempts WHERE seq IN (1, 3)")
        }
        try old.close()
        let store = try SQLiteResultStore.openForWriting(path: path)
        let version = try await store.schemaVersion()
        let kept = try await store.attempts(after: 0, limit: 10)
        var rerun = makeResult("kept", task: "t")
        rerun.runID = "00000000000000a1"
        rerun.redelivered = true
        try await store.store([rerun])
        let runs = try await store.attempts(of: "kept")
        let afterRerun = try await store.attempts(after: 2, limit: 10)
        await store.close()
        #expect(version == 8)
        #expect(kept.map { "\($0.sequence)/\($0.result.id)/\($0.result.traceparent ?? "-")" } == ["2/kept/tp"])
        #expect(kept.first?.result.runID == nil)
        #expect(kept.first?.result.redelivered == false)
        #expect(runs.map(\.runID) == [nil, "00000000000000a1"], "the old row and a second run of the same attempt")
        #expect(afterRerun.map(\.sequence) == [4], "numbered after the deleted row 3")
    }
}

@Suite("PostgreSQL schema upgrade (real server)")
struct PostgresUpgradeTests {
    @Test("a database at schema 2 (one row per attempt) is migrated to runs on start: rows kept, a second run stored beside them")
    func upgradeToRuns() async throws {
        let database = try await TestPostgresDatabase.create()
        defer { database.drop() }
        try await database.sql("CREATE TABLE warren_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        for (index, statements) in PostgresSchema.migrations.prefix(2).enumerated() {
            for statement in statements { try await database.sql(statement) }
            try await database.sql("INSERT INTO warren_schema (version) VALUES (\(index + 1))")
        }
        try await database.sql("""
            INSERT INTO warren_result_attempts (id, task, queue, attempt, status, final, at_ms, stored_ms, traceparent)
            VALUES ('kept', 't', 'q', 1, 'succeeded', true, 1000, 1000, 'tp')
            """)
        let address = try StoreAddress(parsing: database.url)
        let store = try await ResultStores.openForWriting(address, logger: Logger(label: "test"))
        let version = try await store.schemaVersion()
        let kept = try await store.attempts(of: "kept")
        var rerun = makeResult("kept", task: "t")
        rerun.runID = "00000000000000a1"
        rerun.redelivered = true
        try await store.store([rerun, rerun])
        let runs = try await store.attempts(of: "kept")
        await store.close()
        #expect(version == 8)
        #expect(kept.map(\.traceparent) == ["tp"])
        #expect(kept.first?.runID == nil)
        #expect(runs.map(\.runID) == [nil, "00000000000000a1"])
        #expect(runs.map(\.redelivered) == [false, true])
    }
}
