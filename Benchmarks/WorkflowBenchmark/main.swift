// What coordinating a workflow costs: a 100-step fan-out/fan-in (one step, 98 in parallel, one
// that joins them) run through the backend's coordinator, beside the same tasks published by
// hand (the first, wait for its result; the 98, wait for all; the last, wait). Every task is
// `warren.echo` on a real `warren worker`, so a run's time is almost all coordination. Run by
// `scripts/bench workflow`, release build only, with a `warren backend` and a worker running.
//
//   warren-workflow-bench AMQP_URL QUEUE MODE RUNS WARMUP
//       MODE is `workflow` or `hand`. Prints "MODE RUNS P50_MS P99_MS CRITICAL_MS": end-to-end
//       time per run (from the start to the final result in hand), and the median sum of the
//       critical path's task times (first + the longest parallel step + last, from the results).
import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("warren-workflow-bench: \(message)\n".utf8))
    exit(1)
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}

let arguments = CommandLine.arguments
guard arguments.count == 6, let runs = Int(arguments[4]), let warmup = Int(arguments[5]), runs > 0,
      ["workflow", "hand"].contains(arguments[3]) else {
    fail("usage: warren-workflow-bench AMQP_URL QUEUE workflow|hand RUNS WARMUP")
}
let (queue, mode) = (arguments[2], arguments[3])
var configuration = try ConnectionConfiguration(urls: arguments[1], connectionName: "warren-workflow-bench")
configuration.logger.logLevel = .error
let connection = try await Connection.open(configuration)
let client = TaskClient(connection: connection, actor: "bench")
try await client.ensureQueue(queue)

let parallel = (0..<98).map { "p\($0)" }
let definition = WorkflowDefinition(name: "fan", steps: [WorkflowStep(name: "first", task: "warren.echo")]
    + parallel.map { WorkflowStep(name: $0, task: "warren.echo", args: .object(["step": .string($0)]), after: ["first"]) }
    + [WorkflowStep(name: "last", task: "warren.echo", after: parallel)])

/// The critical path's task time of one run: first + the longest parallel step + last.
func critical(_ results: [String: TaskResult]) -> Double {
    let duration = { (name: String) in Double(results[name]?.durationMs ?? 0) }
    return duration("first") + (parallel.map(duration).max() ?? 0) + duration("last")
}

/// Waits for the final result of each id the waiter waits for, by step name.
func collect(_ waiter: ResultWaiter, _ names: [String: String]) async -> [String: TaskResult] {
    var results: [String: TaskResult] = [:]
    for await result in waiter.finalResults(timeout: .seconds(60)) {
        guard result.status == .succeeded else { fail("task \(result.id) ended \(result.status)") }
        results[names[result.id] ?? result.id] = result
    }
    guard results.count == waiter.ids.count else { fail("\(waiter.ids.count - results.count) results did not come within 60 s") }
    return results
}

var times: [Double] = []
var criticals: [Double] = []
let clock = ContinuousClock()
for index in 0..<(warmup + runs) {
    let run = "bench-\(UUID().uuidString.lowercased())"
    var names: [String: String] = [:]
    for step in definition.steps { names[WorkflowDefinition.stepTaskID(run: run, step: step.name)] = step.name }
    let stepResults: [String: TaskResult]
    let elapsed: Duration
    if mode == "workflow" {
        // Every step's result and the run's, through one waiter bound before the start.
        let waiter = try await client.waitForResults(of: Array(names.keys) + [run])
        names[run] = "run"
        let start = clock.now
        try await client.startWorkflow(WorkflowRun(id: run, definition: definition, args: .object([:]), queue: queue,
                                                   startedMs: Int64(Date().timeIntervalSince1970 * 1000)))
        stepResults = await collect(waiter, names)
        elapsed = clock.now - start
        await waiter.close()
        guard stepResults["run"]?.status == .succeeded else { fail("run \(run) did not succeed") }
    } else {
        // One waiter per phase, all bound before the clock starts.
        let id = { (name: String) in WorkflowDefinition.stepTaskID(run: run, step: name) }
        let (first, middle, last) = (try await client.waitForResult(of: id("first")), try await client.waitForResults(of: parallel.map(id)),
                                     try await client.waitForResult(of: id("last")))
        let message = { (name: String) in
            TaskMessage(id: id(name), task: "warren.echo", args: name == "first" || name == "last" ? .object([:]) : .object(["step": .string(name)]),
                        queue: queue)
        }
        let start = clock.now
        try await client.publish(message("first"))
        var got = await collect(first, names)
        for outcome in try await client.publish(batch: parallel.map { (message($0), Duration.zero) }) { try outcome.get() }
        got.merge(await collect(middle, names), uniquingKeysWith: { $1 })
        try await client.publish(message("last"))
        got.merge(await collect(last, names), uniquingKeysWith: { $1 })
        elapsed = clock.now - start
        for waiter in [first, middle, last] { await waiter.close() }
        stepResults = got
    }
    if index >= warmup {
        times.append(milliseconds(elapsed))
        criticals.append(critical(stepResults))
    }
}
await client.close()
await connection.close()
times.sort()
criticals.sort()
let p99 = max(0, Int(Double(runs) * 0.99) - 1)
print(String(format: "%@ %d %.1f %.1f %.1f", mode, runs, times[(runs - 1) / 2], times[p99], criticals[(runs - 1) / 2]))
