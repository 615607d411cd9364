import ArgumentParser
import RabbitMQ
import WarrenCore

/// The worker's queues, concurrency, prefetch, catalog, payload limit and the deployment's queue type, read as
/// `warren worker` reads them: the flag, else the environment, else the default. `warren doctor`
/// takes the same options, so it judges the settings a worker will really run with.
struct WorkerOptions: ParsableArguments {
    @Option(name: .customLong("queue"), help: "A queue to consume (repeatable; default: default and each queue the catalog's tasks name).")
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

    @OptionGroup var queueTypeOption: QueueTypeOption

    /// The options with the environment's defaults applied and checked.
    struct Resolved {
        var queues: [String]
        var concurrency: Int
        var prefetch: Int
        /// `--autoscale MIN,MAX`: concurrency follows the backlog between these bounds.
        var autoscale: ClosedRange<Int>?
        var tasksPath: String?
        var maxPayload: Int
        var queueType: QueueType
        /// Whether `--queue` was given.
        var queuesGiven = false

        /// The queues the worker consumes: those given with `--queue`; without it `default` and
        /// every queue a task of `catalog` names (`queue:`), so the tasks' own queues have a consumer.
        func consumedQueues(catalog: TaskCatalog) -> [String] {
            queuesGiven ? queues : queues + catalog.namedQueues.filter { !queues.contains($0) }
        }
    }

    func resolve(environment: [String: String]) throws -> Resolved {
        var range: ClosedRange<Int>?
        if let autoscale {
            guard concurrency == nil else { throw ValidationError("give --concurrency or --autoscale, not both") }
            let bounds = autoscale.split(separator: ",").compactMap { Int($0) }
            guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1] else {
                throw ValidationError("--autoscale: expected MIN,MAX with 1 <= MIN <= MAX, got \"\(autoscale)\"")
            }
            range = bounds[0]...bounds[1]
        }
        let concurrency = try Self.positive(range?.upperBound ?? concurrency ?? Self.integer(environment, "WARREN_CONCURRENCY") ?? 4, "--concurrency")
        let prefetch = try Self.positive(prefetch ?? Self.integer(environment, "WARREN_PREFETCH") ?? 4 * concurrency, "--prefetch")
        guard prefetch <= 65_535 else { throw ValidationError("--prefetch: at most 65535") }
        let type = try queueTypeOption.resolve(environment: environment)
        guard let maxPayloadBytes = ByteSize.parse(maxPayload), maxPayloadBytes > 0 else {
            throw ValidationError("--max-payload: expected a size such as 1MiB, got \"\(maxPayload)\"")
        }
        let queues = self.queues.isEmpty ? [WireNames.defaultQueue] : self.queues
        for queue in queues {
            if let problem = Names.queueNameProblem(queue) { throw ValidationError("--queue \(queue): \(problem)") }
        }
        return Resolved(queues: queues, concurrency: concurrency, prefetch: prefetch, autoscale: range,
                        tasksPath: tasks ?? environment["WARREN_TASKS"], maxPayload: maxPayloadBytes, queueType: type,
                        queuesGiven: !self.queues.isEmpty)
    }

    private static func integer(_ environment: [String: String], _ name: String) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name): expected a number, got \"\(text)\"") }
        return value
    }

    private static func positive(_ value: Int, _ name: String) throws -> Int {
        guard value > 0 else { throw ValidationError("\(name): expected a positive number, got \(value)") }
        return value
    }
}
