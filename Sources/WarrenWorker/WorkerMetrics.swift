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
    /// Counters and timers by label and dimension values (the dimension names are fixed per
    /// label), made once: creating them per task allocates.
    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[Key: Timer]>([:])

    private struct Key: Hashable {
        var label: String
        var first: String
        var second: String

        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            first = dimensions.first?.1 ?? ""
            second = dimensions.count > 1 ? dimensions[1].1 : ""
        }
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Key(label, dimensions)
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: label, dimensions: dimensions)
            counters[key] = made
            return made
        }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Key(label, dimensions)
        return timers.withLock { timers in
            if let existing = timers[key] { return existing }
            let made = Timer(label: label, dimensions: dimensions)
            timers[key] = made
            return made
        }
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
