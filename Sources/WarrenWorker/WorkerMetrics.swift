import CoreMetrics
import Synchronization

/// The worker's metrics, through swift-metrics (a no-op unless the process bootstraps a backend;
/// `warren worker --metrics` serves them in Prometheus format). Labels carry task names,
/// statuses and reasons only.
final class WorkerMetrics: Sendable {
    private let running = Atomic<Int>(0)
    private let unsettled = Atomic<Int>(0)
    private let inFlightGauge = Gauge(label: "warren_tasks_in_flight")
    private let unsettledGauge = Gauge(label: "warren_deliveries_unsettled")
    private let limitGauge = Gauge(label: "warren_worker_concurrency_limit")

    func received() {
        unsettledGauge.record(unsettled.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func settled(_ count: Int) {
        unsettledGauge.record(unsettled.wrappingSubtract(count, ordering: .relaxed).newValue)
    }

    func started(task: String) {
        Counter(label: "warren_tasks_started_total", dimensions: [("task", task)]).increment()
        inFlightGauge.record(running.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func ran(task: String, for duration: Duration) {
        inFlightGauge.record(running.wrappingSubtract(1, ordering: .relaxed).newValue)
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        Timer(label: "warren_task_duration_seconds", dimensions: [("task", task)]).recordNanoseconds(nanoseconds)
    }

    /// A result was published with this status (`retrying` included).
    func finished(task: String, status: String) {
        Counter(label: "warren_tasks_finished_total", dimensions: [("task", task), ("status", status)]).increment()
        if status == "retrying" { Counter(label: "warren_tasks_retried_total", dimensions: [("task", task)]).increment() }
    }

    func deadLettered(task: String, reason: String) {
        Counter(label: "warren_tasks_dead_lettered_total", dimensions: [("task", task), ("reason", reason)]).increment()
    }

    func concurrencyLimit(_ limit: Int) {
        limitGauge.record(limit)
    }
}
