import Foundation
import Testing
import Logging
import WarrenCore
import WarrenStore

/// The two store kinds every conformance test runs against.
public enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    public var testDescription: String { rawValue }
}

/// A fresh, empty store of one kind: a file in a new temporary directory, or a new database on
/// the test PostgreSQL server. `address` reaches it; `close()` removes it.
public struct StoreFixture: Sendable {
    public let kind: StoreKind
    public let address: StoreAddress
    public let store: any ResultStore
    /// The PostgreSQL URL with its password, for `--store`.
    let database: String?
    private let cleanup: @Sendable () -> Void

    /// `directory`: where the SQLite file goes (default: a new temporary directory, removed on close).
    public static func make(_ kind: StoreKind, directory given: URL? = nil) async throws -> StoreFixture {
        let logger = Logger(label: "warren.test.store")
        switch kind {
        case .sqlite:
            let directory = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("warren-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let address = StoreAddress.sqlite(path: directory.appendingPathComponent("results.sqlite").path)
            return StoreFixture(kind: kind, address: address, store: try await ResultStores.openForWriting(address, logger: logger),
                                                database: nil) {
                if given == nil { try? FileManager.default.removeItem(at: directory) }
            }
        case .postgres:
            let database = try await TestPostgresDatabase.create()
            let address = try StoreAddress(parsing: database.url)
            return StoreFixture(kind: kind, address: address, store: try await ResultStores.openForWriting(address, logger: logger),
                                database: database.url) {
                database.drop()
            }
        }
    }

    /// The address as `--store` takes it.
    public var argument: String {
        switch address {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres: return database ?? ""
        }
    }

    public func close() async {
        await store.close()
        cleanup()
    }
}

/// A result with times `finishedAt` (ISO-8601) and a duration.
public func makeResult(_ id: String, task: String = "reports.generate", attempt: Int = 1, status: ResultStatus = .succeeded,
                schedule: String? = nil, finishedAt: String = "2026-11-23T10:00:00.000Z", durationMs: Int64? = 100) -> TaskResult {
    var result = TaskResult(id: id, task: task, queue: "reports", attempt: attempt, status: status)
    result.schedule = schedule
    result.scheduledFor = schedule.map { _ in "2026-11-23T10:00:00+01:00" }
    result.worker = "host:1"
    result.startedAt = finishedAt
    result.finishedAt = finishedAt
    result.durationMs = durationMs
    return result
}

/// An ISO-8601 UTC instant `secondsAgo` before now.
public func isoAgo(_ secondsAgo: Double) -> String { TaskResult.timestamp(Date().addingTimeInterval(-secondsAgo)) }
