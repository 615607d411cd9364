import Cron
import Foundation
import WarrenCore

/// A result as it is written: the message's fields plus what storage derives from them.
struct StoredRow: Sendable {
    var result: TaskResult
    /// Whether this is a run's final outcome (column `final`): not `retrying`, and not `skipped`.
    /// A skipped fire's record ranks with `retrying`, below any run of the same id (a run of the
    /// same fire by a scheduler that crashed before recording it, or a backfill): the run is
    /// what happened. Statistics and runs per minute count final rows only.
    var isFinal: Bool
    /// The time rows are sorted, filtered and retained by, in milliseconds since the epoch:
    /// the finish time, else the start time, else when the row was stored.
    var atMs: Int64
    /// `result` as JSON text, or nil.
    var resultJSON: String?
    var argsJSON: String?
    /// The run id as stored: empty for results without one (one run per `(id, attempt)`), since
    /// a NULL would never conflict in the unique key.
    var runKey: String { result.runID ?? "" }

    init(_ result: TaskResult, storedAtMs: Int64) {
        var result = result
        // Neither store keeps NUL in text as given (SQLite's JSON functions end the text there,
        // PostgreSQL refuses it): it is stored as U+FFFD, the same in both.
        result.id = Self.withoutNUL(result.id)
        result.task = Self.withoutNUL(result.task)
        result.queue = Self.withoutNUL(result.queue)
        for field in [\TaskResult.schedule, \.scheduledFor, \.worker, \.startedAt, \.finishedAt, \.output, \.error, \.traceparent, \.runID, \.trigger, \.batch, \.publishedAt] {
            result[keyPath: field] = result[keyPath: field].map(Self.withoutNUL)
        }
        self.result = result
        isFinal = result.status.isFinal && !result.status.isFireRecord
        atMs = result.finishedAt.flatMap(ResultTime.milliseconds) ?? result.startedAt.flatMap(ResultTime.milliseconds) ?? storedAtMs
        resultJSON = result.result.map(JSONText.write)
        argsJSON = result.args.map(JSONText.write)
    }

    static func withoutNUL(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    /// Whether this row replaces `other` as the latest state of the same task id: the higher
    /// attempt wins; in the same attempt a final status beats `retrying`; then the later time.
    /// Storage applies the same order in SQL (`(attempt, final, at_ms) >=`).
    func supersedes(_ other: StoredRow) -> Bool {
        (result.attempt, isFinal ? 1 : 0, atMs) >= (other.result.attempt, other.isFinal ? 1 : 0, other.atMs)
    }
}

/// A batch reduced to what one transaction writes: a row per run (id, attempt, run id) and a row per id,
/// each the one that supersedes the others in the batch (an upsert cannot touch a row twice).
struct StorageBatch {
    var attempts: [StoredRow] = []
    var latest: [StoredRow] = []

    init(_ results: [TaskResult], storedAt: Date) {
        let storedAtMs = storedAt.millisecondsSince1970
        var attemptIndex: [AttemptKey: Int] = [:]
        var latestIndex: [String: Int] = [:]
        for result in results {
            let row = StoredRow(result, storedAtMs: storedAtMs)
            let key = AttemptKey(id: row.result.id, attempt: result.attempt, run: row.runKey)
            if let index = attemptIndex[key] {
                if row.supersedes(attempts[index]) { attempts[index] = row }
            } else {
                attemptIndex[key] = attempts.count
                attempts.append(row)
            }
            if let index = latestIndex[row.result.id] {
                if row.supersedes(latest[index]) { latest[index] = row }
            } else {
                latestIndex[row.result.id] = latest.count
                latest.append(row)
            }
        }
    }

    private struct AttemptKey: Hashable {
        var id: String
        var attempt: Int
        var run: String
    }
}

/// Reads the ISO-8601 instants results carry.
enum ResultTime {
    /// `2026-11-23T10:00:00.123Z` (or with an offset, or without fraction) in milliseconds since
    /// the epoch; nil when the text is not such an instant.
    static func milliseconds(_ text: String) -> Int64? {
        guard let seconds = try? Timestamp.parse(text, in: .utc) else { return nil }
        var fraction: Int64 = 0
        if let dot = text.utf8.firstIndex(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ",") }) {
            var scale: Int64 = 100
            for byte in text.utf8[text.utf8.index(after: dot)...] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), scale > 0 else { break }
                fraction += Int64(byte - UInt8(ascii: "0")) * scale
                scale /= 10
            }
        }
        return seconds * 1000 + fraction
    }

    static func milliseconds(_ date: Date) -> Int64 { date.millisecondsSince1970 }
}
