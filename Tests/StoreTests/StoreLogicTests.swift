import Foundation
import GRDB
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
    @Test("a store at schema v1 is migrated to v2 on open; its rows are kept and the new column is null")
    func upgrade() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("r.sqlite").path
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
        #expect(version == 2)
        #expect(kept.map(\.id) == ["kept"])
        #expect(kept.first?.traceparent == nil)
    }
}
