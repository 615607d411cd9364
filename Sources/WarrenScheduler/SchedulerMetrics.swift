import CoreMetrics

/// The scheduler's metrics through swift-metrics (`warren scheduler --metrics` serves them in
/// Prometheus format). No label carries a schedule name: there may be 100k of them.
final class SchedulerMetrics: Sendable {
    private let published = Counter(label: "warren_scheduler_fires_published_total")
    private let failed = Counter(label: "warren_scheduler_fires_failed_total")
    private let missedTooOld = Counter(label: "warren_scheduler_fires_missed_total", dimensions: [("reason", "too_old")])
    private let missedByPolicy = Counter(label: "warren_scheduler_fires_missed_total", dimensions: [("reason", "catchup_policy")])
    private let caughtUp = Counter(label: "warren_scheduler_fires_caught_up_total")
    private let overlapSkipped = Counter(label: "warren_scheduler_fires_skipped_overlap_total")
    private let pauseSkipped = Counter(label: "warren_scheduler_fires_skipped_paused_total")
    private let overlapReplaced = Counter(label: "warren_scheduler_runs_replaced_total")
    private let lateness = Timer(label: "warren_scheduler_fire_lateness_seconds")
    private let sendLateness = Timer(label: "warren_scheduler_fire_send_lateness_seconds")
    private let active = Gauge(label: "warren_scheduler_active")
    private let connected = Gauge(label: "warren_broker_connected")
    private let schedules = Gauge(label: "warren_scheduler_schedules")
    private let reloadErrors = Counter(label: "warren_scheduler_reload_errors_total")

    func publishedFire(latenessNanoseconds: Int64) {
        published.increment()
        lateness.recordNanoseconds(max(0, latenessNanoseconds))
    }

    /// A fire was handed to the broker client this long after it was due.
    func sentFire(latenessNanoseconds: Int64) {
        sendLateness.recordNanoseconds(max(0, latenessNanoseconds))
    }

    func failedFire() { failed.increment() }

    func missed(tooOld: Int, byPolicy: Int, caughtUp count: Int) {
        if tooOld > 0 { missedTooOld.increment(by: tooOld) }
        if byPolicy > 0 { missedByPolicy.increment(by: byPolicy) }
        if count > 0 { caughtUp.increment(by: count) }
    }

    func skippedByOverlap() { overlapSkipped.increment() }
    func skippedByPause() { pauseSkipped.increment() }
    func replacedRun() { overlapReplaced.increment() }
    func setActive(_ isActive: Bool) { active.record(isActive ? 1 : 0) }
    func setConnected(_ isConnected: Bool) { connected.record(isConnected ? 1 : 0) }
    func setSchedules(_ count: Int) { schedules.record(count) }
    func reloadFailed() { reloadErrors.increment() }
}
