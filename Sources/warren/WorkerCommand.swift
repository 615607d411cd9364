import ArgumentParser
import Cron
import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import WarrenCore
import WarrenMessaging
import WarrenWorker

/// `warren worker`: consume queues and run tasks from the catalog.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Consume task queues and run tasks from the task catalog.",
        discussion: """
            Prefetch and concurrency are independent: --concurrency is how many tasks run at \
            once, --prefetch how many deliveries the broker hands over before any is acked. \
            SIGTERM or SIGINT stops taking work, lets running tasks finish within --grace and \
            returns the rest to the queue. SIGHUP, or a change to the --tasks file, reloads the \
            catalog (a file that fails to load keeps the last good one). See docs/worker.md.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @OptionGroup var worker: WorkerOptions

    @Option(help: "Time running tasks get to finish after SIGTERM.")
    var grace = "30s"

    @Option(name: .customLong("max-queue-length"), help: "Declare queues with x-max-length N and reject-publish overflow.")
    var maxQueueLength: Int?

    @Option(name: .customLong("max-priority"),
            help: "Declare queues with priorities 0-N (1-9, classic queues); without it queues have none, which costs the broker less per task.")
    var maxPriority: Int?

    @Option(name: .customLong("max-tasks"), help: "Exit 0 after running this many tasks (the rest stay queued).")
    var maxTasks: Int?

    @Option(help: "This worker's name in its results, `warren workers` and its announcements (default HOST:PID).")
    var name: String?

    @Flag(name: .customLong("no-watch"), help: "Reload the --tasks file only on SIGHUP, not when it changes.")
    var noWatch = false

    @Option(name: .customLong("announce-interval"),
            help: "How often the worker announces itself for `warren workers`, the dashboard and warren_worker_busy_ratio, 1s to 1m, or off (default 5s).")
    var announceInterval: String?

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let tuning = try worker.resolve(environment: environment)
        if let maxTasks, maxTasks < 1 { throw ValidationError("--max-tasks: expected a positive number") }
        let queueOptions: TaskQueueOptions
        do {
            queueOptions = try TaskQueueOptions.validated(type: tuning.queueType, maxLength: maxQueueLength, maxPriority: maxPriority)
        } catch {
            throw ValidationError("\(error.setting == .maxLength ? "--max-queue-length" : "--max-priority"): \(error)")
        }
        let logger = try service.logger(label: "warren.worker")
        let catalog = try ArgumentValues.catalog(tuning.tasksPath)
        let connection = try service.connection(broker, name: "warren-worker", logger: logger)
        var workerConfiguration = WorkerConfiguration(
            connection: connection, queues: tuning.consumedQueues(catalog: catalog), concurrency: tuning.concurrency, prefetch: tuning.prefetch, catalog: catalog,
            maxPayload: tuning.maxPayload, grace: try ArgumentValues.duration(grace, option: "--grace"),
            queueOptions: queueOptions, maxTasks: maxTasks, logger: logger
        )
        workerConfiguration.autoscale = tuning.autoscale
        if let name {
            // The same limits as a task id: it travels in every result.
            if let problem = Names.taskIDProblem(name) { throw ValidationError("--name: \(problem)") }
            workerConfiguration.workerName = name
        }
        if announceInterval == "off" {
            workerConfiguration.announceInterval = nil
        } else if let announceInterval {
            let interval = try ArgumentValues.duration(announceInterval, option: "--announce-interval")
            guard interval >= .seconds(1), interval <= .seconds(60) else {
                throw ValidationError("--announce-interval: expected 1s to 1m, or off, got \(announceInterval)")
            }
            workerConfiguration.announceInterval = interval
        }
        workerConfiguration.reapTasks = true
        workerConfiguration.catalogFile = tuning.tasksPath
        workerConfiguration.watchCatalog = !noWatch
        let export = try service.otlpExport(serviceName: "warren-worker", logger: logger)
        if let export { workerConfiguration.tracing = export.tracing }
        try await service.run(command: "worker", logger: logger, readiness: workerConfiguration.readiness, export: export) {
            let worker = Worker(configuration: workerConfiguration)
            return [worker, ReloadOnHangup { worker.reloadCatalog() }]
        }
    }
}
