import Foundation
import WarrenCore

/// Counts, success rate and percentiles of run time, queue wait and end-to-end time of final
/// results, per task, per queue and per schedule (`warren results stats`, `GET /api/stats`).
public struct ResultStatistics: Sendable, Equatable {
    /// Nearest-rank p50, p95 and p99 of some durations, in milliseconds (nil without any).
    public struct Percentiles: Sendable, Equatable {
        public var p50: Int64?
        public var p95: Int64?
        public var p99: Int64?

        public init(_ values: [Int64]) {
            let sorted = values.sorted()
            p50 = ResultStatistics.percentile(0.50, of: sorted)
            p95 = ResultStatistics.percentile(0.95, of: sorted)
            p99 = ResultStatistics.percentile(0.99, of: sorted)
        }

        var json: JSONValue {
            .object(["p50": p50.map(JSONValue.integer) ?? .null, "p95": p95.map(JSONValue.integer) ?? .null,
                     "p99": p99.map(JSONValue.integer) ?? .null])
        }
    }

    /// One line of the summary.
    public struct Group: Sendable, Equatable {
        /// `task`, `queue` or `schedule`.
        public var kind: String
        public var name: String
        /// Runs: final results other than `skipped` and `missed` (a fire that did not run is no run).
        public var total: Int
        /// Count per final status, e.g. `["succeeded": 98, "failed": 2, "skipped": 3]`.
        public var byStatus: [String: Int]
        /// `succeeded` / total, 0…1 (0 without runs).
        public var successRate: Double
        /// Run time (the durations known).
        public var runTime: Percentiles
        /// From entering its queue to starting (results that carry `published_at`).
        public var queueWait: Percentiles
        /// From entering its queue to finishing.
        public var endToEnd: Percentiles

        public var p50Ms: Int64? { runTime.p50 }
        public var p95Ms: Int64? { runTime.p95 }
    }

    public var groups: [Group]

    /// Groups `samples` by task (sorted by name), then by queue, then by schedule (sorted;
    /// unscheduled results are not a schedule group).
    public init(_ samples: [StatisticsSample]) {
        var byTask: [String: [StatisticsSample]] = [:]
        var byQueue: [String: [StatisticsSample]] = [:]
        var bySchedule: [String: [StatisticsSample]] = [:]
        for sample in samples {
            byTask[sample.task, default: []].append(sample)
            if !sample.queue.isEmpty { byQueue[sample.queue, default: []].append(sample) }
            if let schedule = sample.schedule { bySchedule[schedule, default: []].append(sample) }
        }
        groups = byTask.keys.sorted().map { Self.group(kind: "task", name: $0, samples: byTask[$0]!) }
            + byQueue.keys.sorted().map { Self.group(kind: "queue", name: $0, samples: byQueue[$0]!) }
            + bySchedule.keys.sorted().map { Self.group(kind: "schedule", name: $0, samples: bySchedule[$0]!) }
    }

    private static func group(kind: String, name: String, samples: [StatisticsSample]) -> Group {
        var counts: [String: Int] = [:]
        for sample in samples { counts[sample.status.rawValue, default: 0] += 1 }
        let runs = samples.count - counts[ResultStatus.skipped.rawValue, default: 0] - counts[ResultStatus.missed.rawValue, default: 0]
        return Group(kind: kind, name: name, total: runs, byStatus: counts,
                     successRate: runs == 0 ? 0 : Double(counts[ResultStatus.succeeded.rawValue, default: 0]) / Double(runs),
                     runTime: Percentiles(samples.compactMap(\.durationMs)), queueWait: Percentiles(samples.compactMap(\.queueWaitMs)),
                     endToEnd: Percentiles(samples.compactMap(\.endToEndMs)))
    }

    /// Nearest-rank percentile of sorted values: the smallest value with at least `fraction`
    /// of the values at or below it.
    static func percentile(_ fraction: Double, of sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

extension ResultStatistics {
    /// `{"since": …, "tasks": [...], "queues": [...], "schedules": [...]}` as
    /// `results stats --json` and `GET /api/stats` give it.
    public func json(since: Date?) -> JSONValue {
        func groups(_ kind: String) -> JSONValue {
            .array(self.groups.filter { $0.kind == kind }.map { group in
                .object(["name": .string(group.name), "total": .integer(Int64(group.total)),
                         "by_status": .object(group.byStatus.mapValues { .integer(Int64($0)) }),
                         "success_rate": .number(group.successRate),
                         "p50_ms": group.runTime.p50.map(JSONValue.integer) ?? .null, "p95_ms": group.runTime.p95.map(JSONValue.integer) ?? .null,
                         "p99_ms": group.runTime.p99.map(JSONValue.integer) ?? .null,
                         "queue_wait_ms": group.queueWait.json, "end_to_end_ms": group.endToEnd.json])
            })
        }
        return .object(["since": since.map { .string(TaskResult.timestamp($0)) } ?? .null,
                        "tasks": groups("task"), "queues": groups("queue"), "schedules": groups("schedule")])
    }
}
