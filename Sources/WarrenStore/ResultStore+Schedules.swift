import Foundation
import WarrenCore

extension ResultStore {
    /// `schedule`'s health at `now` from what the store holds (SPEC §7): the one reading both
    /// the backend's gauges and `warren schedules health` use.
    /// - Parameters:
    ///   - fileWritten: when the schedule's file was last written (seconds); fires after it are
    ///     checked when the store holds nothing of the schedule yet.
    ///
    /// A runtime pause needs no input: the fires it holds leave `skipped` records, which are final.
    public func health(of schedule: ScheduleDefinition, now: Date, fileWritten: Int64?) async throws -> ScheduleHealth {
        let recent = try await list(ResultQuery(schedule: schedule.name, limit: max(50, 4 * (schedule.alertFailures ?? 0))))
        var lastSuccess = recent.first { $0.status == .succeeded }
        if lastSuccess == nil { lastSuccess = try await list(ResultQuery(schedule: schedule.name, status: .succeeded, limit: 1)).first }
        let nowMs = now.millisecondsSince1970
        // The store's knowledge of the schedule starts at its newest stored fire (itself
        // checked again), else when its file was written.
        let newestFire = recent.compactMap { $0.scheduledFor.flatMap(TaskResult.parseTimestamp) }.max()
            .map { Int64($0.timeIntervalSince1970) }
        let floor = newestFire.map { $0 - 1 } ?? fileWritten ?? nowMs / 1000
        let candidate = ScheduleHealth.overdueCandidate(of: schedule, now: nowMs, after: floor)
        var candidateResult: TaskResult?
        if let candidate {
            candidateResult = try await latest(of: ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: candidate))
        }
        return ScheduleHealth(schedule: schedule, candidate: candidate, candidateResult: candidateResult, recent: recent,
                              lastSuccess: lastSuccess)
    }
}

extension ResultStore {
    /// The stored fires of `schedule` whose time (finished, else started, else stored) is at or
    /// after `since`, oldest first, at most `limit` (the newest kept).
    public func history(of schedule: String, since: Date, limit: Int = 10_000) async throws -> [FireHistoryEntry] {
        var results: [TaskResult] = []
        var query = ResultQuery(schedule: schedule, since: since, limit: min(limit, 1000))
        while results.count < limit {
            let page = try await page(query)
            results += page.results
            guard let next = page.next else { break }
            query.after = next
            query.limit = min(1000, limit - results.count)
        }
        return FireHistoryEntry.entries(results)
    }
}
