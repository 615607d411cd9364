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
            returns the rest to the queue. See docs/worker.md.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Option(name: .customLong("queue"), help: "A queue to consume (repeatable; default: default).")
    var queues: [String] = []

    @Option(help: "Tasks run at once (env WARREN_CONCURRENCY; default 4).")
    var concurrency: Int?

    @Option(help: "MIN,MAX: concurrency follows the backlog between these bounds (instead of --concurrency).")
    var autoscale: String?

    @Option(help: "Unacked deliveries held at once (env WARREN_PREFETCH; default 4 x concurrency).")
    var prefetch: Int?

    @Option(help: "Task catalog YAML file (env WARREN_TASKS); the built-ins warren.echo, warren.sleep and warren.fail are always there.")
    var tasks: String?

    @Option(name: .customLong("max-payload"), help: "Largest task body accepted, e.g. 1MiB (default); larger ones are dead-lettered.")
    var maxPayload = "1MiB"

    @Option(help: "Time running tasks get to finish after SIGTERM (default 30s).")
    var grace = "30s"

    @Option(name: .customLong("queue-type"), help: "classic (default, priorities 0-9) or quorum, for queues this worker declares.")
    var queueType = "classic"

    @Option(name: .customLong("max-queue-length"), help: "Declare queues with x-max-length N and reject-publish overflow.")
    var maxQueueLength: Int?

    @Option(name: .customLong("max-tasks"), help: "Exit 0 after running this many tasks (the rest stay queued).")
    var maxTasks: Int?

    @OptionGroup var service: ServiceOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var autoscaleRange: ClosedRange<Int>?
        if let autoscale {
            guard concurrency == nil else { throw ValidationError("give --concurrency or --autoscale, not both") }
            let bounds = autoscale.split(separator: ",").compactMap { Int($0) }
            guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1] else {
                throw ValidationError("--autoscale: expected MIN,MAX with 1 <= MIN <= MAX, got \"\(autoscale)\"")
            }
            autoscaleRange = bounds[0]...bounds[1]
        }
        let concurrency = try positive(autoscaleRange?.upperBound ?? concurrency ?? environment["WARREN_CONCURRENCY"].flatMap(Int.init) ?? 4, "--concurrency")
        let prefetch = try positive(prefetch ?? environment["WARREN_PREFETCH"].flatMap(Int.init) ?? 4 * concurrency, "--prefetch")
        guard prefetch <= 65_535 else { throw ValidationError("--prefetch: at most 65535") }
        guard let maxPayloadBytes = ByteSize.parse(maxPayload), maxPayloadBytes > 0 else {
            throw ValidationError("--max-payload: expected a size such as 1MiB, got \"\(maxPayload)\"")
        }
        guard let type = QueueType(rawValue: queueType), type == .classic || type == .quorum else {
            throw ValidationError("--queue-type: expected classic or quorum, got \"\(queueType)\"")
        }
        if let maxTasks, maxTasks < 1 { throw ValidationError("--max-tasks: expected a positive number") }
        if let maxQueueLength, maxQueueLength < 1 { throw ValidationError("--max-queue-length: expected a positive number") }
        let logger = try service.logger(label: "warren.worker")
        let queues = self.queues.isEmpty ? [WireNames.defaultQueue] : self.queues
        for queue in queues {
            if let problem = Names.queueNameProblem(queue) { throw ValidationError("--queue \(queue): \(problem)") }
        }
        var catalog = TaskCatalog()
        if let path = tasks ?? environment["WARREN_TASKS"] {
            do {
                catalog = try TaskCatalog.load(path: path)
            } catch {
                throw ValidationError(error.errors.map(\.description).joined(separator: "\n"))
            }
        }
        let connection = try service.connection(broker, name: "warren-worker", logger: logger)
        var workerConfiguration = WorkerConfiguration(
            connection: connection, queues: queues, concurrency: concurrency, prefetch: prefetch, catalog: catalog,
            maxPayload: maxPayloadBytes, grace: try ArgumentValues.duration(grace, option: "--grace"),
            queueOptions: TaskQueueOptions(type: type, maxLength: maxQueueLength), maxTasks: maxTasks, logger: logger
        )
        workerConfiguration.autoscale = autoscaleRange
        try await service.run(command: "worker", logger: logger) { [Worker(configuration: workerConfiguration)] }
    }

    private func positive(_ value: Int, _ name: String) throws -> Int {
        guard value > 0 else { throw ValidationError("\(name): expected a positive number, got \(value)") }
        return value
    }
}
