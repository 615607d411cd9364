import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The way in for a program that puts tasks on the wire or acts on them: publish one task or a
/// batch with confirms (creating a missing queue the way every publisher does), wait for a
/// result, cancel, and the schedule operations of SPEC §6 (`TaskClient+Schedules.swift`).
/// `warren publish`, `warren cancel`, `warren schedules …` and the HTTP API go through it; the
/// scheduler uses it for its queues and publishes its fires with its progress record itself
/// (docs/scheduler.md).
public final class TaskClient: Sendable {
    public let connection: Connection
    public let queueOptions: TaskQueueOptions
    /// Who acts, as recorded with every schedule operation (`cli:USER@HOST`, `api:admin-token`).
    public let actor: String
    /// Queues known to exist (or created) through this client.
    private let ensured = Mutex<Set<String>>([])
    /// The exchanges are declared: by a waiter, or with any queue or the shared topology.
    private let exchangesDeclared = Mutex(false)
    /// The confirm channel publishes go over, opened on first use.
    private let publishing = Mutex<Task<Channel, any Error>?>(nil)

    /// With a tracer, each publish is a span (`publish TASK`) that the task's run continues.
    public let tracing: TaskTracing

    public init(connection: Connection, queueOptions: TaskQueueOptions = TaskQueueOptions(), actor: String,
                tracing: TaskTracing = TaskTracing()) {
        self.connection = connection
        self.queueOptions = queueOptions
        self.actor = actor
        self.tracing = tracing
    }

    /// Makes sure `queue` can take tasks: declares the shared topology, and the queue unless it
    /// exists (`TaskPublisher.ensureQueue`); once per queue for this client.
    public func ensureQueue(_ queue: String, priority: Int? = nil) async throws {
        if ensured.withLock({ $0.contains(queue) }) { return }
        try await TaskPublisher.ensureQueue(queue, options: queueOptions, priority: priority, on: connection)
        ensured.withLock { _ = $0.insert(queue) }
        exchangesDeclared.withLock { $0 = true }
    }

    /// Declares the shared topology (results, dead letters, delay chain, workflows) once for this
    /// client.
    public func ensureShared() async throws {
        if ensured.withLock({ $0.contains("") }) { return }
        let setup = try await connection.openChannel(confirms: false)
        try await WarrenTopology.declareShared(on: setup, queueType: queueOptions.type)
        try? await setup.close()
        ensured.withLock { _ = $0.insert("") }
        exchangesDeclared.withLock { $0 = true }
    }

    /// Publishes one task; returns once the broker confirmed it. A positive `delay` sends it
    /// through the delay chain.
    public func publish(_ message: TaskMessage, delay: Duration = .zero) async throws {
        try await ensureQueue(message.queue, priority: message.priority)
        var message = message
        let span = publishSpan(&message)
        let outgoing = message.outgoing(delay: delay)
        do {
            try await channel().publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                        properties: outgoing.properties, mandatory: outgoing.mandatory)
            span?.end()
        } catch {
            span?.end(error: "\(error)")
            throw error
        }
    }

    /// With a tracer: starts the span of publishing `message` (a child of the trace it carries,
    /// or a new trace) and makes the message carry the span instead. Without, the message keeps
    /// what it carries: no id is made for a span nobody records.
    private func publishSpan(_ message: inout TaskMessage) -> TraceSpan? {
        guard tracing.tracer != nil else { return nil }
        let span = tracing.start("publish \(message.task)", kind: .producer, parent: message.traceparent,
                                 attributes: ["warren.task.id": message.id, "warren.task": message.task, "warren.queue": message.queue])
        message.traceparent = span.traceparent
        return span
    }

    /// Publishes many tasks, `window` at a time, each confirmed; returns each one's outcome in
    /// order (a refusal by the broker is that task's failure, not the call's). A queue some task
    /// gives a priority is created with priorities.
    public func publish(batch: [(message: TaskMessage, delay: Duration)], window: Int = 1000) async throws -> [Result<Void, AMQPError>] {
        let priorities = Dictionary(batch.map { ($0.message.queue, $0.message.priority ?? 0) }, uniquingKeysWith: max)
        for (queue, priority) in priorities.sorted(by: { $0.key < $1.key }) { try await ensureQueue(queue, priority: priority) }
        let channel = try await channel()
        var outcomes: [Result<Void, AMQPError>] = []
        outcomes.reserveCapacity(batch.count)
        var start = 0
        while start < batch.count {
            let slice = batch[start..<min(start + window, batch.count)]
            var spans: [TraceSpan?] = []
            let messages = slice.map { entry in
                var message = entry.message
                spans.append(publishSpan(&message))
                return message.outgoing(delay: entry.delay)
            }
            let results = await channel.publishBatch(messages)
            for (span, result) in zip(spans, results) {
                span?.end(confirmed: result)
            }
            outcomes += results
            start += window
        }
        return outcomes
    }

    /// Starts waiting for the final result of task `id`; start it before publishing the task so
    /// no result slips past.
    public func waitForResult(of id: String) async throws -> ResultWaiter {
        try await waitForResults(of: [id])
    }

    /// Starts waiting for the final results of every task in `ids` (one private queue, bound
    /// once per id); start it before publishing them.
    public func waitForResults(of ids: some Sequence<String>) async throws -> ResultWaiter {
        // The exchanges are declared once per client: a process waiting on one task after
        // another then pays four broker round trips per waiter instead of nine.
        let declare = !exchangesDeclared.withLock { $0 }
        let waiter = try await ResultWaiter.start(ids: ids, on: connection, declaringExchanges: declare)
        if declare { exchangesDeclared.withLock { $0 = true } }
        return waiter
    }

    /// Cancels task `id`: appended to the cancellation stream (confirmed), which every worker
    /// reads; a queued task never runs, a running one is stopped.
    public func cancel(_ id: String) async throws {
        let setup = try await connection.openChannel(confirms: false)
        try await CancellationStream.declare(on: setup)
        try? await setup.close()
        try await CancellationStream.append(.cancel(taskID: id), on: channel())
    }

    /// Closes the publishing channel (the connection stays the caller's).
    public func close() async {
        if let opening = publishing.withLock({ $0 }), let channel = try? await opening.value { try? await channel.close() }
    }

    func channel() async throws -> Channel {
        let opening = publishing.withLock { current -> Task<Channel, any Error> in
            if let current { return current }
            let task = Task { [connection] in try await connection.openChannel(confirms: true) }
            current = task
            return task
        }
        do {
            return try await opening.value
        } catch {
            publishing.withLock { $0 = nil }
            throw error
        }
    }
}
