import struct Foundation.Date
import CoreMetrics
import Synchronization
import WarrenCore

/// The worker's metrics, through swift-metrics (a no-op unless the process bootstraps a backend;
/// `warren worker --metrics` serves them in Prometheus format). Labels carry task names,
/// statuses and reasons only.
final class WorkerMetrics: Sendable {
    private let running = Atomic<Int>(0)
    private let unsettled = Atomic<Int>(0)
    private let unsettledByQueue = Mutex<[String: Int]>([:])
    /// Tasks that take time (not the instant built-ins), running now, by run.
    private let runningNow = Mutex<[RunKey: WorkerAnnouncement.RunningTask]>([:])
    private let busyGauge = Gauge(label: "warren_worker_busy_ratio")
    private let finished = Atomic<Int>(0)
    private let inFlightGauge = Gauge(label: "warren_tasks_in_flight")
    private let unsettledGauge = Gauge(label: "warren_deliveries_unsettled")
    private let limitGauge = Gauge(label: "warren_worker_concurrency_limit")
    /// Counters and timers made once: creating them per task allocates. The per-task ones are
    /// found by the task name alone, several times per task, so without building a key.
    private let counters = HandleCache<Counter>()
    private let tasks = Mutex<[String: TaskMetricHandles]>([:])

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        counters.handle(label, dimensions) { Counter(label: label, dimensions: dimensions) }
    }

    private func handles(_ task: String) -> TaskMetricHandles {
        tasks.withLock { tasks in
            if let existing = tasks[task] { return existing }
            let made = TaskMetricHandles(task: task)
            tasks[task] = made
            return made
        }
    }

    /// `count` deliveries arrived from the broker (`warren_deliveries_unsettled`: received, not
    /// yet acked or rejected, whether running or waiting for a slot).
    func received(_ count: Int, queue: String) {
        unsettledGauge.record(unsettled.wrappingAdd(count, ordering: .relaxed).newValue)
        unsettledByQueue.withLock { $0[queue, default: 0] += count }
    }

    func settled(_ count: Int, queue: String) {
        settled([queue: count])
    }

    /// Deliveries settled, counted per queue.
    func settled(_ counts: [String: Int]) {
        let total = counts.values.reduce(0, +)
        guard total != 0 else { return }
        unsettledGauge.record(unsettled.wrappingSubtract(total, ordering: .relaxed).newValue)
        unsettledByQueue.withLock { byQueue in
            for (queue, count) in counts { byQueue[queue, default: 0] -= count }
        }
    }

    /// Deliveries received and not settled yet, per queue (the worker's share of each queue's
    /// unacked count at the broker), as the worker announces them.
    var unsettledPerQueue: [String: Int] { unsettledByQueue.withLock { $0 } }

    /// Tasks running now.
    var runningTasks: Int { running.load(ordering: .relaxed) }

    /// A task that takes time started (`stoppedRunning` when it ends): the worker announces what it runs.
    func startedRunning(_ message: TaskMessage, run: RunKey, since: Date) {
        let task = WorkerAnnouncement.RunningTask(id: message.id, task: message.task, attempt: message.attempt, since: since)
        runningNow.withLock { $0[run] = task }
    }

    func stoppedRunning(_ run: RunKey) {
        runningNow.withLock { _ = $0.removeValue(forKey: run) }
    }

    /// The tasks that take time running now, longest running first, at most `limit`.
    func runningNow(limit: Int) -> [WorkerAnnouncement.RunningTask] {
        Array(runningNow.withLock { Array($0.values) }.sorted { $0.since < $1.since }.prefix(limit))
    }

    /// `warren_worker_busy_ratio`: the share of the worker's slots in use over the last minute.
    func busy(_ ratio: Double) {
        busyGauge.record(ratio)
    }

    /// Tasks finished (any final status, and retries) since the worker started.
    var finishedTasks: Int { finished.load(ordering: .relaxed) }

    /// The broker ended the consumer of `queue`; the worker subscribes again.
    func consumerLost(queue: String) {
        counter("warren_consumers_lost_total", [("queue", queue)]).increment()
    }

    /// A delivery whose channel died before it started: never run (the broker hands it out
    /// again) and never settled.
    func staleSkipped(queue: String) {
        counter("warren_deliveries_stale_skipped_total", []).increment()
        settled(1, queue: queue)
    }

    /// The broker refused a message a finished task produced (`role`: result, retry, …).
    func refused(role: SettlementMessage.Role) {
        counter("warren_messages_refused_total", [("message", "\(role)")]).increment()
    }

    /// A redelivered copy of a run this worker had under way or had settled: acked, not run.
    func redeliverySkipped() {
        counter("warren_redeliveries_skipped_total", []).increment()
    }

    func started(task: String) {
        handles(task).started.increment()
        inFlightGauge.record(running.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    func ran(task: String, for duration: Duration) {
        inFlightGauge.record(running.wrappingSubtract(1, ordering: .relaxed).newValue)
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        handles(task).duration.recordNanoseconds(nanoseconds)
    }

    /// A result was published with this status (`retrying` included).
    func finished(task: String, status: ResultStatus) {
        finished.wrappingAdd(1, ordering: .relaxed)
        let handles = handles(task)
        handles.finished(status).increment()
        if status == .retrying { handles.retried.increment() }
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

/// One task name's handles, each made on first use (so /metrics lists only what happened).
private final class TaskMetricHandles: Sendable {
    private struct Made {
        var started: Counter?
        var duration: Timer?
        var retried: Counter?
        var finished = [Counter?](repeating: nil, count: TaskMetricHandles.statuses.count)
    }

    private static let statuses = ResultStatus.allCases

    private let task: String
    private let made = Mutex(Made())

    init(task: String) { self.task = task }

    var started: Counter {
        made.withLock { Self.once(&$0.started) { Counter(label: "warren_tasks_started_total", dimensions: [("task", task)]) } }
    }

    var duration: Timer {
        made.withLock { Self.once(&$0.duration) { Timer(label: "warren_task_duration_seconds", dimensions: [("task", task)]) } }
    }

    var retried: Counter {
        made.withLock { Self.once(&$0.retried) { Counter(label: "warren_tasks_retried_total", dimensions: [("task", task)]) } }
    }

    func finished(_ status: ResultStatus) -> Counter {
        let index = Self.statuses.firstIndex(of: status)!
        return made.withLock {
            Self.once(&$0.finished[index]) {
                Counter(label: "warren_tasks_finished_total", dimensions: [("task", task), ("status", status.rawValue)])
            }
        }
    }

    private static func once<Handle>(_ slot: inout Handle?, make: () -> Handle) -> Handle {
        if let existing = slot { return existing }
        let handle = make()
        slot = handle
        return handle
    }
}
