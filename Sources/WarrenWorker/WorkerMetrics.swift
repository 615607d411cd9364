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
    /// Counters and timers made once: creating them per task allocates.
    private let counters = HandleCache<Counter>()
    private let timers = HandleCache<Timer>()

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        counters.handle(label, dimensions) { Counter(label: label, dimensions: dimensions) }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        timers.handle(label, dimensions) { Timer(label: label, dimensions: dimensions) }
    }

    func received() {
        unsettledGauge.record(unsettled.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func settled(_ count: Int) {
        unsettledGauge.record(unsettled.wrappingSubtract(count, ordering: .relaxed).newValue)
    }

    func started(task: String) {
        counter("warren_tasks_started_total", [("task", task)]).increment()
        inFlightGauge.record(running.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func ran(task: String, for duration: Duration) {
        inFlightGauge.record(running.wrappingSubtract(1, ordering: .relaxed).newValue)
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        timer("warren_task_duration_seconds", [("task", task)]).recordNanoseconds(nanoseconds)
    }

    /// A result was published with this status (`retrying` included).
    func finished(task: String, status: String) {
        counter("warren_tasks_finished_total", [("task", task), ("status", status)]).increment()
        if status == "retrying" { counter("warren_tasks_retried_total", [("task", task)]).increment() }
    }

    func deadLettered(task: String, reason: String) {
        counter("warren_tasks_dead_lettered_total", [("task", task), ("reason", reason)]).increment()
    }

    func concurrencyLimit(_ limit: Int) {
        limitGauge.record(limit)
    }
}

/// Metric handles by label and dimension values (the dimension names are fixed per label).
private final class HandleCache<Handle: Sendable>: Sendable {
    private struct Key: Hashable {
        var label: String
        var values: [String]
    }

    private let handles = Mutex<[Key: Handle]>([:])

    func handle(_ label: String, _ dimensions: [(String, String)], make: () -> Handle) -> Handle {
        let key = Key(label: label, values: dimensions.map(\.1))
        return handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let made = make()
            handles[key] = made
            return made
        }
    }
}
