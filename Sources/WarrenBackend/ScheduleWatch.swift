import CoreMetrics
import Foundation
import Logging
import Synchronization
import WarrenCore
import WarrenStore

/// The dead-man's switch (SPEC §7): every `interval`, evaluates each schedule of the schedule
/// files that sets `alert_after` or `alert_failures` against the store, sets its three gauges
/// and hands the outcome to the dashboard through `BackendState`.
struct ScheduleWatch: Sendable {
    let store: any ResultStore
    let schedules: ScheduleCache
    let interval: Duration
    let state: BackendState
    let logger: Logger
    let gauges = ScheduleGauges()

    func run() async {
        while !Task.isCancelled {
            await evaluate()
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass over the watched schedules.
    func evaluate(now: Date = Date()) async {
        var healths: [String: ScheduleHealth] = [:]
        let previous = state.scheduleHealth
        var written: [String: Int64?] = [:]
        for schedule in schedules.current() where schedule.isWatched {
            let file = schedule.location.file
            if written[file] == nil { written[file] = ScheduleDirectory.lastWritten(file) }
            do {
                let health = try await store.health(of: schedule, now: now, fileWritten: written[file] ?? nil)
                if health.inTrouble != (previous[schedule.name]?.inTrouble ?? false) {
                    if health.inTrouble {
                        logger.warning("schedule in trouble: \(health.problems.joined(separator: "; "))", metadata: ["schedule": "\(schedule.name)"])
                    } else {
                        logger.notice("schedule healthy again", metadata: ["schedule": "\(schedule.name)"])
                    }
                }
                healths[schedule.name] = health
            } catch {
                logger.warning("cannot evaluate the health of a schedule: \(error)", metadata: ["schedule": "\(schedule.name)"])
                if let last = previous[schedule.name] { healths[schedule.name] = last }
            }
        }
        gauges.record(healths)
        state.setScheduleHealth(healths)
    }
}

/// `warren_schedule_overdue`, `warren_schedule_consecutive_failures` and
/// `warren_schedule_last_success_timestamp_seconds`, one series per watched schedule; a
/// schedule no longer watched loses its series.
final class ScheduleGauges: Sendable {
    private struct Series {
        let overdue: Gauge
        let failures: Gauge
        let lastSuccess: Gauge
    }
    private let series = Mutex<[String: Series]>([:])

    func record(_ healths: [String: ScheduleHealth]) {
        series.withLock { series in
            for name in series.keys where healths[name] == nil {
                let gone = series.removeValue(forKey: name)!
                gone.overdue.destroy()
                gone.failures.destroy()
                gone.lastSuccess.destroy()
            }
            for (name, health) in healths {
                let gauges = series[name] ?? Series(
                    overdue: Gauge(label: "warren_schedule_overdue", dimensions: [("schedule", name)]),
                    failures: Gauge(label: "warren_schedule_consecutive_failures", dimensions: [("schedule", name)]),
                    lastSuccess: Gauge(label: "warren_schedule_last_success_timestamp_seconds", dimensions: [("schedule", name)]))
                series[name] = gauges
                gauges.overdue.record(health.overdue ? 1 : 0)
                gauges.failures.record(health.consecutiveFailures)
                gauges.lastSuccess.record(Double(health.lastSuccess ?? 0) / 1000)
            }
        }
    }
}
