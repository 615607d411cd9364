import ArgumentParser
import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren publish TASK` (or `--batch FILE`): publish tasks with confirms.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one task (or a file of them) and print its id once the broker has confirmed it.",
        discussion: """
            With --wait, the final result comes back through the broker and is printed as JSON; the exit \
            status is 0 when the task succeeded, 1 when it ended otherwise, 2 when no final result came \
            within --timeout. With --batch, each line of the file is a JSON object with the fields \
            task (required), args, queue, id, priority, delay, at, expires; every line is checked \
            before anything is published. The batch gets an id (--batch-id, else a new UUID) that \
            every task carries (header x-warren-batch) into its results, so `warren results list \
            --batch ID` lists them. The id of each task the broker confirmed is printed in file order, \
            one per line (or written to --ids FILE), and a summary naming the batch goes to standard \
            error. With --batch --wait, once every task has a final result (or --timeout passed after \
            the longest delay in the file) a table gives the count per status and each task that did \
            not succeed; the exit status is 0 when all succeeded, 1 when any ended otherwise or was \
            refused, 2 when some had no final result within --timeout.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @OptionGroup var queueTypeOption: QueueTypeOption

    @Argument(help: "A task name from the workers' catalog, or a workflow declared under --schedules (which starts a run of it).")
    var task: String?

    @Option(help: "Directory of schedule files whose workflows TASK may name (env WARREN_SCHEDULES; default ./schedules when it exists).")
    var schedules: String?

    @Option(help: "The queue to publish to (default: the task's queue: in the --tasks catalog, else default).")
    var queue: String?

    @Option(help: "The workers' task catalog, read for the task's queue: when --queue is not given (env WARREN_TASKS).")
    var tasks: String?

    @Option(name: .customLong("arg"), help: "An argument as key=value (repeatable); the value is text.")
    var arguments: [String] = []

    @Option(name: .customLong("args-json"), help: "All arguments as one JSON value.")
    var argsJSON: String?

    @Option(name: .customLong("args-file"), help: "All arguments as one JSON value read from this file.")
    var argsFile: String?

    @Option(help: "The task id (default: a new UUID).")
    var id: String?

    @Option(help: "Priority 0-9, honoured by queues with priorities (worker --max-priority; a missing queue is created with them); refused with --queue-type quorum.")
    var priority: Int?

    @Option(help: "Deliver after this long, e.g. 10m; the broker holds the task meanwhile.")
    var delay: String?

    @Option(help: "Deliver at this ISO-8601 time, e.g. 2026-11-24T06:00:00+01:00; the broker holds the task meanwhile.")
    var at: String?

    @Option(help: "Discard the task (recorded expired) if no worker starts it within this long, e.g. 1h.")
    var expires: String?

    @Option(help: "A W3C trace context to carry with the task: its run (and the publish's span, with --otlp-endpoint) joins that trace.")
    var traceparent: String?

    @Option(name: .customLong("otlp-endpoint"), help: "Record each publish as a span, the parent of the task's run, and export it over OTLP/HTTP to the collector at this base URL, e.g. http://127.0.0.1:4318 (env WARREN_OTLP_ENDPOINT).")
    var otlpEndpoint: String?

    @Flag(help: "Wait for the final result and print it (with --batch: for every task, then a summary); exit 0 on success, 1 on failure, 2 on timeout.")
    var wait = false

    @Option(help: "How long --wait waits.")
    var timeout = "30s"

    @Option(help: "Publish every task in this JSON-lines file (\"-\" for standard input).")
    var batch: String?

    @Option(name: .customLong("batch-id"), help: "With --batch: the batch's id, carried by every task (default: a new UUID).")
    var batchID: String?

    @Option(name: .customLong("ids"), help: "With --batch: write the published task ids to this file instead of standard output.")
    var idsFile: String?

    func run() async throws {
        var quiet = Logger(label: "warren.publish")
        quiet.logLevel = .warning
        guard let export = try OTLPExport.make(endpoint: otlpEndpoint, serviceName: "warren-publish", logger: quiet) else {
            return try await publish(tracing: TaskTracing())
        }
        try await export.whileRunning(logger: quiet) { try await publish(tracing: export.tracing) }
    }

    private func publish(tracing: TaskTracing) async throws {
        let waitTimeout = try ArgumentValues.duration(timeout, option: "--timeout")
        if let batch {
            if let batchID, let problem = Names.taskIDProblem(batchID) { throw ValidationError("--batch-id: \(problem)") }
            try await BatchPublisher(broker: broker, queueOptions: TaskQueueOptions(type: try queueTypeOption.resolve()), path: batch,
                                     catalog: try ArgumentValues.catalog(tasks ?? ProcessInfo.processInfo.environment["WARREN_TASKS"]),
                                     batchID: batchID ?? TaskMessage.newID(), idsPath: idsFile, waitTimeout: wait ? waitTimeout : nil,
                                     timeoutText: timeout, tracing: tracing)
                .run(conflicting: conflictingBatchOptions())
            return
        }
        if batchID != nil || idsFile != nil { throw ValidationError("\(batchID != nil ? "--batch-id" : "--ids") needs --batch FILE") }
        guard let task else { throw ValidationError("give TASK, or --batch FILE") }
        let queueOptions = TaskQueueOptions(type: try queueTypeOption.resolve())
        if let refusal = queueOptions.priorityRefusal(priority) { throw ValidationError("--priority: \(refusal)") }
        var request = TaskRequest(task: task)
        request.args = try parsedArguments()
        request.queue = try queue ?? ArgumentValues.catalog(tasks ?? ProcessInfo.processInfo.environment["WARREN_TASKS"]).queue(for: task)
        request.id = id
        request.priority = priority
        request.delay = try delay.map { try ArgumentValues.duration($0, option: "--delay") }
        request.at = try at.map { try ArgumentValues.instant($0, option: "--at") }
        request.expires = try expires.map { try ArgumentValues.duration($0, option: "--expires") }
        request.traceparent = traceparent
        let (message, delay): (TaskMessage, Duration)
        do {
            (message, delay) = try request.validated()
        } catch {
            throw ValidationError(Self.optionNamed(error))
        }
        let workflow = try workflowNamed(task)
        if workflow != nil, let option = [delay > .zero ? "--delay/--at" : nil, priority != nil ? "--priority" : nil,
                                          expires != nil ? "--expires" : nil].compactMap({ $0 }).first {
            throw ValidationError("\(option): not for a workflow (\(task) is one); give it to its steps instead")
        }
        let connection = try await broker.connect(command: "publish")
        let client = TaskClient(connection: connection, queueOptions: queueOptions, actor: RuntimeSchedules.actor(), tracing: tracing)
        let waiter: ResultWaiter?
        do {
            waiter = wait ? try await client.waitForResult(of: message.id) : nil
            if let workflow {
                try await client.startWorkflow(WorkflowRun(fire: message, workflow: workflow, at: Date().millisecondsSince1970))
            } else {
                try await client.publish(message, delay: delay)
            }
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren publish: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(message.id)
        let inspector = Inspector(connection: connection)
        if workflow == nil { await Self.warnOfIdleQueues([message.queue], inspector: inspector) }
        guard let waiter else {
            await connection.close()
            return
        }
        fflush(nil)
        let result = await waiter.finalResult(timeout: waitTimeout + delay) { retrying in
            FileHandle.standardError.write(Data("attempt \(retrying.attempt) failed, will retry: \(retrying.error ?? "no error text")\n".utf8))
        }
        guard let result else {
            let state: QueueState? = (try? await inspector.queues([message.queue]))?.first?.state ?? nil
            let location = Self.whereItIs(state)
            await connection.close()
            FileHandle.standardError.write(Data("warren publish: no final result for \(message.id) within \(timeout): \(location)\n".utf8))
            throw ExitCode(2)
        }
        await connection.close()
        print(ResultFormatting.jsonLine(result))
        if result.status != .succeeded { throw ExitCode(1) }
    }

    /// The workflow `name` declared under `--schedules` (or WARREN_SCHEDULES, or ./schedules when
    /// it exists); nil when none is: then `name` is a task.
    private func workflowNamed(_ name: String) throws -> WorkflowDefinition? {
        let given = schedules ?? ProcessInfo.processInfo.environment["WARREN_SCHEDULES"]
        let directory = given ?? "schedules"
        var isDirectory: ObjCBool = false
        guard given != nil || (FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) else { return nil }
        do {
            return try ScheduleDirectory.load(directory).workflow(named: name)
        } catch {
            throw ValidationError("--schedules: \(error)")
        }
    }

    /// Warns on standard error once for each distinct queue of `queues` that exists and has no
    /// consumer: its tasks wait there until a worker comes.
    static func warnOfIdleQueues(_ queues: [String], inspector: Inspector) async {
        var seen: Set<String> = []
        let distinct = queues.filter { seen.insert($0).inserted }
        guard let states = try? await inspector.queues(distinct) else { return }
        for (queue, state) in states where state?.consumerCount == 0 {
            let tasks = queues.count == 1 ? "the task waits" : "its tasks wait"
            FileHandle.standardError.write(Data("warren publish: warning: no worker consumes queue \"\(queue)\"; \(tasks) there until one does\n".utf8))
        }
    }

    /// What a `--wait` that timed out can say about its task from its queue.
    static func whereItIs(_ state: QueueState?) -> String {
        guard let state else { return "the task may still be queued or running" }
        let ready = "\(state.messageCount) task\(state.messageCount == 1 ? "" : "s") ready"
        if state.consumerCount == 0, state.messageCount > 0 {
            return "it is still queued (no worker consumes \"\(state.name)\"; \(ready))"
        }
        return "it may still be queued or running (\"\(state.name)\": \(ready), \(state.consumerCount) consumer\(state.consumerCount == 1 ? "" : "s"))"
    }

    /// A validation message in terms of this command's options.
    private static func optionNamed(_ error: TaskRequestError) -> String {
        let text = error.description
        for (field, option) in [("task ", "TASK "), ("queue ", "--queue "), ("priority:", "--priority:"), ("id:", "--id:"),
                                ("delay:", "--delay:"), ("give delay or at", "give --delay or --at"), ("traceparent ", "--traceparent ")]
        where text.hasPrefix(field) {
            return option + text.dropFirst(field.count)
        }
        return text
    }

    /// Options that describe a single task, which --batch lines carry themselves.
    private func conflictingBatchOptions() -> [String] {
        var given: [String] = []
        if task != nil { given.append("TASK") }
        if queue != nil { given.append("--queue") }
        if !arguments.isEmpty { given.append("--arg") }
        if argsJSON != nil { given.append("--args-json") }
        if argsFile != nil { given.append("--args-file") }
        if id != nil { given.append("--id") }
        if priority != nil { given.append("--priority") }
        if delay != nil { given.append("--delay") }
        if at != nil { given.append("--at") }
        if expires != nil { given.append("--expires") }
        if traceparent != nil { given.append("--traceparent") }
        return given
    }

    private func parsedArguments() throws -> JSONValue {
        let sources = [!arguments.isEmpty ? "--arg" : nil, argsJSON != nil ? "--args-json" : nil, argsFile != nil ? "--args-file" : nil]
            .compactMap { $0 }
        guard sources.count <= 1 else { throw ValidationError("give only one of --arg, --args-json and --args-file") }
        if let argsJSON {
            do {
                return try JSONText.parse(Array(argsJSON.utf8))
            } catch {
                throw ValidationError("--args-json: \(error)")
            }
        }
        if let argsFile {
            guard let data = FileManager.default.contents(atPath: argsFile) else { throw ValidationError("--args-file \(argsFile): cannot read the file") }
            do {
                return try JSONText.parse(data)
            } catch {
                throw ValidationError("--args-file \(argsFile): \(error)")
            }
        }
        var values: [String: JSONValue] = [:]
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw ValidationError("--arg \(argument): expected key=value")
            }
            values[String(argument[..<equals])] = .string(String(argument[argument.index(after: equals)...]))
        }
        return .object(values)
    }
}
