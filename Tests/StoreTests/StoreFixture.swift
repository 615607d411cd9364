import Foundation
import Testing
import Logging
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// The two store kinds every conformance test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh, empty store of one kind: a file in a new temporary directory, or a new database on
/// the test PostgreSQL server. `address` reaches it; `close()` removes it.
struct StoreFixture {
    let kind: StoreKind
    let address: StoreAddress
    let store: any ResultStore
    private let cleanup: @Sendable () -> Void

    static func make(_ kind: StoreKind) async throws -> StoreFixture {
        let logger = Logger(label: "warren.test.store")
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let address = StoreAddress.sqlite(path: directory.appendingPathComponent("results.sqlite").path)
            return StoreFixture(kind: kind, address: address, store: try await ResultStores.openForWriting(address, logger: logger)) {
                try? FileManager.default.removeItem(at: directory)
            }
        case .postgres:
            let database = try TestPostgresDatabase.create()
            let address = try StoreAddress(parsing: database.url)
            return StoreFixture(kind: kind, address: address, store: try await ResultStores.openForWriting(address, logger: logger)) {
                database.drop()
            }
        }
    }

    func close() async {
        await store.close()
        cleanup()
    }
}

/// A result with times `finishedAt` (ISO-8601) and a duration.
func makeResult(_ id: String, task: String = "reports.generate", attempt: Int = 1, status: ResultStatus = .succeeded,
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
func isoAgo(_ secondsAgo: Double) -> String { TaskResult.timestamp(Date().addingTimeInterval(-secondsAgo)) }
