import Cron
import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Handles one delivery from decoding to ack: run the task, publish its result (and a retry or a
/// dead-letter copy) with confirms, and ack only once the broker has confirmed them all.
struct TaskProcessor: Sendable {
    /// The catalog in force, read once per delivery (a reload applies to the next one).
    let catalog: CatalogSource
    /// Runs `run` tasks under `TaskReaper`.
    let reapTasks: Bool
    let maxPayload: Int
    let workerName: String
    let settler: ResultSettler
    let ledger: RunLedger<Delivery>
    let cancellations: CancellationRegistry
    let metrics: WorkerMetrics
    let tracing: TaskTracing
    let logger: Logger

    func process(_ delivery: Delivery, queue: String) async {
        let message: TaskMessage
        do {
            message = try TaskMessage(delivery: delivery, queue: queue, maxPayload: maxPayload)
        } catch {
            await reject(delivery, queue: queue, message: nil, reason: error.reason, error: error.description)
            return
        }
        let runKey = RunKey(message)
        let catalog = self.catalog.catalog
        guard let definition = catalog[message.task] else {
            await reject(delivery, queue: queue, message: message, reason: "unknown-task",
                         error: "unknown task \"\(message.task)\": not in this worker's catalog")
            return
        }
        var result = TaskResult(message: message, worker: workerName)
        result.args = TaskResult.boundedArgs(message.args, limit: definition.maxOutput, atMost: delivery.bodyCount)
        result.markRun(of: delivery)
        if let expiresAt = message.expiresAt, expiresAt < Date() {
            result.status = .expired
            result.error = "expired at \(TaskResult.timestamp(expiresAt)) before a worker started it"
            metrics.finished(task: message.task, status: result.status)
            settle(delivery, message, result, run: runKey)
            return
        }
        if cancellations.isCancelled(message.id) {
            result.status = .cancelled
            result.error = "cancelled before it started"
            metrics.finished(task: message.task, status: result.status)
            settle(delivery, message, result, run: runKey)
            return
        }
        // The last moment to notice that the channel died since intake: the broker has requeued
        // the delivery, and another copy will run.
        guard delivery.isSettleable else {
            metrics.staleSkipped(queue: queue)
            logger.info("delivery from a lost channel not started; the broker hands it out again", metadata: ["task_id": "\(message.id)"])
            return
        }
        // From here until it settles, a redelivered copy of this run is held, not run (RunLedger).
        ledger.started(runKey)
        let started = Date()
        let clock = ContinuousClock.now
        metrics.started(task: message.task)
        // The run's span, in the trace the task carries (or a new one): a `run` task gets it as
        // TRACEPARENT, an `http` task sends it, a Swift handler runs inside it.
        let span = tracing.start("run \(message.task)", kind: .consumer, parent: message.traceparent, attributes: [
            "warren.task.id": message.id, "warren.task": message.task, "warren.queue": queue, "warren.attempt": "\(message.attempt)",
        ])
        result.traceparent = span.traceparent
        let outcome: TaskOutcome
        if Self.isInstant(definition) {
            // Nothing to stop: no cancellable task needed.
            outcome = await run(definition, args: message.args, span: span)
        } else {
            // Never on the intake's executor (the consuming connection's I/O thread).
            metrics.startedRunning(message, run: runKey, since: started)
            defer { metrics.stoppedRunning(runKey) }
            let work = Task(executorPreference: globalConcurrentExecutor) { await run(definition, args: message.args, span: span) }
            guard cancellations.start(message.id, stop: { work.cancel() }) else {
                work.cancel()
                _ = await work.value
                metrics.ran(task: message.task, for: ContinuousClock.now - clock)
                result.status = .cancelled
                result.error = "cancelled before it started"
                metrics.finished(task: message.task, status: result.status)
                settle(delivery, message, result, run: runKey)
                return
            }
            outcome = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
            cancellations.finished(message.id)
        }
        metrics.ran(task: message.task, for: ContinuousClock.now - clock)
        span.end(error: outcome.status == .succeeded ? nil : outcome.error ?? "\(outcome.status)")
        let finished = Date()
        result.startedAt = TaskResult.timestamp(started)
        result.finishedAt = TaskResult.timestamp(finished)
        result.durationMs = Int64((finished.timeIntervalSince(started) * 1000).rounded())
        result.exitCode = outcome.exitCode
        result.output = outcome.output
        result.error = outcome.error
        result.result = outcome.result
        if outcome.status == .interrupted, cancellations.isCancelled(message.id) {
            result.status = .cancelled
            result.error = "cancelled while running"
            metrics.finished(task: message.task, status: result.status)
            settle(delivery, message, result, run: runKey)
            return
        }
        switch outcome.status {
        case .interrupted:
            // Shutting down: no result; the unacked delivery returns to its queue.
            logger.info("task interrupted by shutdown, left for redelivery", metadata: ["task_id": "\(message.id)", "task": "\(message.task)"])
            for copy in ledger.abandoned(runKey) { try? copy.nack(requeue: true) }
        case .succeeded:
            result.status = .succeeded
            metrics.finished(task: message.task, status: result.status)
            settle(delivery, message, result, run: runKey)
        case .badArguments:
            await reject(delivery, queue: queue, message: message, reason: "bad-args", error: outcome.error ?? "bad arguments")
        case .failed, .timedOut:
            if message.retries(under: definition.retry) {
                let delay = definition.retry.delay(after: message.attemptInSeries)
                var next = message
                next.attempt += 1
                result.status = .retrying
                let last = min(message.firstAttempt + definition.retry.attempts - 1, RetryPolicy.attemptLimit)
                result.error = "\(outcome.error ?? "failed"); attempt \(next.attempt) of \(last) in \(DurationSyntax.format(delay))"
                metrics.finished(task: message.task, status: result.status)
                settle(delivery, message, result, run: runKey, also: [SettlementMessage(next.outgoing(delay: delay), .retry)])
            } else {
                result.status = outcome.status == .timedOut ? .timedOut : .failed
                metrics.finished(task: message.task, status: result.status)
                metrics.deadLettered(task: message.task, reason: "failed")
                let copy = DeadLetter.copy(of: delivery, queue: queue, reason: "failed", error: outcome.error ?? "failed")
                settle(delivery, message, result, run: runKey, also: [SettlementMessage(copy, .deadLetter)])
            }
        }
    }

    /// Built-ins that return at once (`warren.echo`, `warren.fail`).
    static func isInstant(_ definition: TaskDefinition) -> Bool {
        if case .builtin(let name) = definition.kind { return name != "warren.sleep" }
        return false
    }

    private func run(_ definition: TaskDefinition, args: JSONValue, span: TraceSpan) async -> TaskOutcome {
        switch definition.kind {
        case .builtin(let name): return await BuiltinTasks.run(name, args: args)
        case .run(let specification):
            return await ProcessRunner.run(specification, definition: definition, args: args, traceparent: span.traceparent, reap: reapTasks)
        case .handler(let handler): return await span.within { await HandlerRunner.run(handler, definition: definition, args: args) }
        case .http(let specification):
            // A recorded span is continued by AsyncHTTPClient's own client span, which sends the
            // header; otherwise the run's traceparent is sent as it is.
            return await span.within {
                await HTTPRunner.run(specification, definition: definition, args: args, traceparent: span.isRecorded ? nil : span.traceparent)
            }
        }
    }

    /// Dead-letters a delivery that cannot be run and publishes a `rejected` result for it.
    /// A message that cannot be read and has no `message_id` gets a fresh id, which its result
    /// and its dead-letter copy share (every rejected message is recorded on its own).
    private func reject(_ delivery: Delivery, queue: String, message: TaskMessage?, reason: String, error: String) async {
        let id = message?.id ?? delivery.properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? TaskMessage.newID()
        logger.warning("task rejected", metadata: ["task_id": "\(id)", "reason": "\(reason)", "error": "\(error)", "queue": "\(queue)"])
        var result = message.map { TaskResult(message: $0, worker: workerName) }
            ?? TaskResult(id: id, task: delivery.properties.type ?? "unknown", queue: queue, attempt: 1, status: .rejected)
        result.worker = workerName
        result.batch = message?.batch ?? delivery.properties.headers?[WireHeaders.batch]?.stringValue
        result.workflow = message?.workflow ?? delivery.properties.headers?[WireHeaders.workflow]?.stringValue
        result.args = message.map { TaskResult.boundedArgs($0.args, limit: TaskResult.defaultArgsLimit, atMost: delivery.bodyCount) }
        result.markRun(of: delivery)
        result.status = .rejected
        result.error = error
        // Only catalog names become labels: a flood of made-up names must not grow the metrics.
        let known = catalog.catalog
        let label = message.flatMap { known[$0.task] != nil ? $0.task : nil } ?? "(unknown)"
        metrics.finished(task: label, status: result.status)
        metrics.deadLettered(task: label, reason: reason)
        let copy = DeadLetter.copy(of: delivery, queue: queue, reason: reason, error: error, id: id)
        settle(delivery, queue: queue, key: message.map(RunKey.init), result,
               also: [SettlementMessage(copy, .deadLetter)])
    }

    /// Hands a finished task's result (and `also`: a retry or a dead-letter copy) to the settler,
    /// which publishes them with confirms and then acks.
    private func settle(_ delivery: Delivery, _ message: TaskMessage, _ result: TaskResult, run: RunKey,
                        also: [SettlementMessage] = []) {
        settle(delivery, queue: message.queue, key: run, result, also: also)
    }

    private func settle(_ delivery: Delivery, queue: String, key: RunKey?, _ result: TaskResult, also: [SettlementMessage]) {
        var messages = also
        if let outgoing = try? result.outgoing() { messages.append(SettlementMessage(outgoing, .result)) }
        settler.submit(Settlement(delivery: delivery, queue: queue, result: result, messages: messages, key: key))
    }
}

extension TaskResult {
    /// A result for `message` with its identity fields filled.
    init(message: TaskMessage, worker: String) {
        self.init(id: message.id, task: message.task, queue: message.queue, attempt: message.attempt, status: .failed)
        self.schedule = message.schedule
        self.scheduledFor = message.scheduledFor
        self.worker = worker
        self.traceparent = message.traceparent
        self.trigger = message.trigger
        self.batch = message.batch
        self.workflow = message.workflow
        self.publishedAt = message.publishedMs.map(Timestamp.formatUTC(milliseconds:))
    }

    /// Marks the result as this handling of `delivery`: a new run id, and whether the broker
    /// redelivered it (docs/protocol.md, "A result").
    mutating func markRun(of delivery: Delivery) {
        runID = TaskResult.newRunID()
        redelivered = delivery.redelivered
    }
}
