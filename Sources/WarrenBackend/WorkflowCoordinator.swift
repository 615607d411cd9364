import Cron
import Foundation
import Logging
import RabbitMQ
import ServiceLifecycle
import WarrenCore
import WarrenMessaging
import WarrenStore

/// Carries workflow runs forward (SPEC §8, docs/workflows.md). It reads `warren.workflows`, a
/// single-active-consumer queue, so exactly one backend coordinates at a time and another takes
/// over when it goes. For each run an event names, it reads the run and its steps' results from
/// the store, decides what comes next (`WorkflowProgress`), publishes it with confirms, saves
/// the run, and only then acknowledges the event: a crash anywhere leaves the event to be
/// handled again, and handling it again publishes only what was not yet recorded as done.
struct WorkflowCoordinator {
    let store: any ResultStore
    let connection: Connection
    /// The type of a task queue the coordinator creates when a step names one nobody declared
    /// yet. `warren.workflows` itself is a quorum queue whatever this says (WarrenTopology).
    let queueType: QueueType
    let logger: Logger

    /// Events handed over at once; the runs they name are each carried forward once per batch.
    static let prefetch: UInt16 = 500

    /// Coordinates until cancelled; a broker or store failure restarts the consumer after a
    /// backoff, leaving unacknowledged events to be delivered again.
    func run() async {
        var backoff = Backoff(first: .milliseconds(200), longest: .seconds(5))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await consume()
                backoff = Backoff(first: .milliseconds(200), longest: .seconds(5))
            } catch {
                if Task.isCancelled { return }
                logger.warning("workflow coordinator stopped; starting again", metadata: ["error": "\(error)"])
            }
            let wait = backoff.step()
            try? await Task.sleep(for: wait)
        }
    }

    private func consume() async throws {
        let channel = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareQueue(WarrenTopology.workflowsQueue, on: channel)
        try await channel.setPrefetch(Self.prefetch)
        let consumer = try await channel.consume(queue: WireNames.workflowsQueue)
        let results = try await connection.openChannel(confirms: true)
        let client = TaskClient(connection: connection, queueOptions: TaskQueueOptions(type: queueType), actor: "workflow coordinator")
        defer {
            Task {
                await client.close()
                try? await results.close()
                try? await channel.close()
            }
        }
        do {
            for await batch in consumer.batches {
                try await handle(batch, client: client, results: results)
                if Task.isCancelled { break }
            }
        } catch {
            // Unacknowledged events go back to the queue with the channel.
            try? await channel.close()
            throw error
        }
    }

    private func handle(_ batch: DeliveryBatch, client: TaskClient, results: Channel) async throws {
        var runs: [String] = []
        var seen: Set<String> = []
        for delivery in batch {
            let event: WorkflowEvent
            do {
                event = try WorkflowEvent.decode(delivery.body)
            } catch {
                logger.error("unreadable workflow event dropped: \(error)", metadata: ["message_id": "\(delivery.properties.messageID ?? "")"])
                continue
            }
            if case .start(let run) = event, try await store.workflowRun(run.id) == nil {
                try await store.saveWorkflowRun(run)
                logger.info("workflow run started", metadata: ["run": "\(run.id)", "workflow": "\(run.definition.name)", "steps": "\(run.definition.steps.count)"])
            }
            if seen.insert(event.runID).inserted { runs.append(event.runID) }
        }
        for id in runs {
            try await advance(id, client: client, results: results)
        }
        try batch.last?.ack(multiple: true)
    }

    /// Publishes what run `id` needs next and saves what was done.
    private func advance(_ id: String, client: TaskClient, results: Channel) async throws {
        guard var run = try await store.workflowRun(id) else {
            logger.warning("workflow event for a run the store does not have; dropped", metadata: ["run": "\(id)"])
            return
        }
        if run.status != nil { return }
        if let problem = run.definition.problem {
            // A start from a program that did not validate its workflow: the run ends at once.
            let now = Date().millisecondsSince1970
            var result = run.result(status: .rejected, firstFailure: nil, finishedMs: now)
            result.error = "workflow cannot run: \(problem)"
            for outcome in await results.publishBatch([try result.outgoing()]) { try outcome.get() }
            run.status = .rejected
            run.finishedMs = now
            try await store.saveWorkflowRun(run)
            logger.warning("workflow run rejected: \(problem)", metadata: ["run": "\(run.id)", "workflow": "\(run.definition.name)"])
            return
        }
        let stepIDs = run.definition.steps.map { WorkflowDefinition.stepTaskID(run: run.id, step: $0.name) }
        var latest: [String: TaskResult] = [:]
        for result in try await store.latest(ofIDs: stepIDs) {
            if let step = WorkflowDefinition.stepName(taskID: result.id, run: run.id) { latest[step] = result }
        }
        var ended = latest.compactMapValues { $0.status.isFinal ? $0.status : nil }
        for step in run.skipped where ended[step] == nil { ended[step] = .skipped }
        let progress = WorkflowProgress.decide(run.definition, ended: ended, published: run.published)
        // Most events of a fan-in change nothing (a branch ended, others still run): no write.
        if progress.publish.isEmpty && progress.skip.isEmpty && progress.final == nil { return }
        let now = Date().millisecondsSince1970

        var tasks: [(message: TaskMessage, delay: Duration)] = []
        var records: [OutgoingMessage] = []
        for name in progress.publish {
            guard let step = run.definition.step(named: name) else { continue }
            let taskID = WorkflowDefinition.stepTaskID(run: run.id, step: name)
            do {
                let args = try WorkflowArgs.fill(step.args, from: WorkflowArgs.Inputs(runID: run.id, args: run.args, steps: latest))
                var message = TaskMessage(id: taskID, task: step.task, args: args, queue: run.queue(of: step), traceparent: run.traceparent)
                message.workflow = run.id
                tasks.append((message, .zero))
            } catch {
                // The step cannot be called: it is recorded rejected, and on_failure decides the rest.
                records.append(try stepRecord(run, step, status: .rejected, error: "args: \(error)", at: now).outgoing())
            }
        }
        for (name, reason) in progress.skip {
            guard let step = run.definition.step(named: name) else { continue }
            records.append(try stepRecord(run, step, status: .skipped, error: reason, at: now).outgoing())
        }
        if let final = progress.final {
            records.append(try run.result(status: final, firstFailure: progress.firstFailure, finishedMs: now).outgoing())
        }
        if !tasks.isEmpty {
            let outcomes = try await client.publish(batch: tasks)
            if let failure = outcomes.first(where: { if case .failure = $0 { true } else { false } }), case .failure(let error) = failure {
                throw error
            }
        }
        if !records.isEmpty {
            for outcome in await results.publishBatch(records) {
                if case .failure(let error) = outcome { throw error }
            }
        }
        run.published.formUnion(progress.publish)
        run.skipped.formUnion(progress.skip.map(\.step))
        if let final = progress.final {
            run.status = final
            run.finishedMs = now
        }
        try await store.saveWorkflowRun(run)
        for message in tasks.map(\.message) {
            logger.info("workflow step published", metadata: ["run": "\(run.id)", "task_id": "\(message.id)", "task": "\(message.task)", "queue": "\(message.queue)"])
        }
        if let final = progress.final {
            logger.info("workflow run ended", metadata: ["run": "\(run.id)", "workflow": "\(run.definition.name)", "status": "\(final.rawValue)"])
        }
    }

    /// A result the coordinator records for a step that will not run as published.
    private func stepRecord(_ run: WorkflowRun, _ step: WorkflowStep, status: ResultStatus, error: String, at now: Int64) -> TaskResult {
        var result = TaskResult(id: WorkflowDefinition.stepTaskID(run: run.id, step: step.name), task: step.task, queue: run.queue(of: step),
                                attempt: 1, status: status)
        result.error = error
        result.worker = "workflow"
        result.finishedAt = Timestamp.formatUTC(milliseconds: now)
        result.workflow = run.id
        result.traceparent = run.traceparent
        return result
    }
}
