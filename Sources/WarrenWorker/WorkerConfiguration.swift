import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Everything `warren worker` is told on its command line.
public struct WorkerConfiguration: Sendable {
    public var connection: ConnectionConfiguration
    /// Queues consumed, each declared (idempotently) on start.
    public var queues: [String]
    /// Tasks run at once (the starting point when `autoscale` is set).
    public var concurrency: Int
    /// Concurrency follows the backlog between these bounds.
    public var autoscale: ClosedRange<Int>?
    /// Deliveries the broker hands this worker before it acks any (independent of concurrency).
    public var prefetch: Int
    public var catalog: TaskCatalog
    /// The file `catalog` was read from: read again on `Worker.reloadCatalog()` (SIGHUP) and when
    /// it changes, keeping the last good catalog when it fails to load.
    public var catalogFile: String?
    /// Reload when `catalogFile` changes (`reloadCatalog()` always reloads).
    public var watchCatalog = true
    /// Bodies larger than this are dead-lettered unread (`too-large`).
    public var maxPayload: Int
    /// On SIGTERM/SIGINT, running tasks get this long to finish before they are stopped and
    /// their deliveries returned to the queue.
    public var grace: Duration
    public var queueOptions: TaskQueueOptions
    /// Stop after starting this many tasks (finishing them first); nil runs until told to stop.
    public var maxTasks: Int?
    /// Runs `run` tasks under `TaskReaper`, so they die with the worker (the program must call
    /// `TaskReaper.runIfRequested()` at the start of `main`; `warren worker` does).
    public var reapTasks = false
    /// What `/readyz` reports: `starting` until consuming, `broker` while a connection is down,
    /// `queue NAME` while a queue is not consumed.
    public var readiness = Readiness()
    /// `host:pid`, written into each result.
    public var workerName: String
    /// How often the worker announces itself on `warren.workers` (`WorkerAnnouncement`); nil
    /// announces nothing (the worker is then missing from `warren workers` and the dashboard).
    public var announceInterval: Duration? = .seconds(5)
    /// Each run is a span (`run TASK`), a child of the trace its task carries; with a tracer it
    /// is recorded (`--otlp-endpoint`).
    public var tracing = TaskTracing()
    public var logger: Logger

    public init(connection: ConnectionConfiguration, queues: [String] = [WireNames.defaultQueue], concurrency: Int = 4,
                prefetch: Int = 16, catalog: TaskCatalog = TaskCatalog(), maxPayload: Int = 1 << 20,
                grace: Duration = .seconds(30), queueOptions: TaskQueueOptions = TaskQueueOptions(), maxTasks: Int? = nil,
                workerName: String = WorkerConfiguration.defaultWorkerName, logger: Logger = Logger(label: "warren.worker")) {
        self.connection = connection
        self.queues = queues
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.catalog = catalog
        self.maxPayload = maxPayload
        self.grace = grace
        self.queueOptions = queueOptions
        self.maxTasks = maxTasks
        self.autoscale = nil
        self.workerName = workerName
        self.logger = logger
    }

    public static var defaultWorkerName: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
