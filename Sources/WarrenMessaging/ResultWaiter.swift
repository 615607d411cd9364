import DequeModule
import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// Waits for tasks' final results through the broker (no store involved): a private, exclusive
/// queue bound to `warren.results.by-id` once per task id receives those tasks' results only.
/// Start it before publishing so no result can slip past.
///
/// Results are read and decoded from the moment it starts, so a result that arrives while the
/// caller still awaits its publish's confirm is in hand when the caller asks for it. One caller
/// reads them at a time (`finalResult` or `finalResults`, not both at once).
public struct ResultWaiter: Sendable {
    private let channel: Channel
    private let arrived: ArrivedResults
    /// The task ids waited for.
    public let ids: Set<String>

    /// Declares the private queue for one task and starts consuming it.
    public static func start(id: String, on connection: Connection) async throws -> ResultWaiter {
        try await start(ids: [id], on: connection)
    }

    /// Declares the private queue, binds it once per id and starts consuming it. The exchanges
    /// are declared first unless `declaringExchanges` is false (the caller declared them on this
    /// broker already: `TaskClient` does so once).
    public static func start(ids: some Sequence<String>, on connection: Connection, declaringExchanges: Bool = true) async throws -> ResultWaiter {
        let ids = Set(ids)
        let channel = try await connection.openChannel(confirms: false)
        if declaringExchanges { try await WarrenTopology.declareExchanges(on: channel) }
        let queue = "warren.wait.\(TaskMessage.newID())"
        _ = try await channel.declare(QueueSpec(name: queue, durable: false, exclusive: true, autoDelete: true))
        for id in ids {
            try await channel.bind(QueueBinding(queue: queue, exchange: WireNames.resultsByIDExchange, routingKey: id))
        }
        let consumer = try await channel.consume(queue: queue, exclusive: true)
        let arrived = ArrivedResults()
        // Ends when the channel closes (`close`, or the connection lost), which ends the consumer.
        Task {
            for await delivery in consumer {
                try? delivery.ack()
                guard let result = try? TaskResult.decode(delivery.body), ids.contains(result.id) else { continue }
                arrived.add(result)
            }
            arrived.end()
        }
        return ResultWaiter(channel: channel, arrived: arrived, ids: ids)
    }

    /// Stops waiting: closes the private queue's channel, and the broker deletes the queue. A
    /// process waiting on many tasks one after another closes each waiter when done with it.
    public func close() async {
        try? await channel.close()
    }

    /// The first final result within `timeout`, or nil. `progress` sees each `retrying` one.
    public func finalResult(timeout: Duration, progress: @escaping @Sendable (TaskResult) -> Void = { _ in }) async -> TaskResult? {
        let deadline = ContinuousClock.now + timeout
        while let result = await arrived.next(until: deadline) {
            if result.status.isFinal { return result }
            progress(result)
        }
        return nil
    }

    /// Each task's first final result as it arrives; the sequence ends once every id has one or
    /// `timeout` has passed. `progress` sees each `retrying` result before then.
    public func finalResults(timeout: Duration, progress: @escaping @Sendable (TaskResult) -> Void = { _ in }) -> AsyncStream<TaskResult> {
        let (arrived, ids) = (self.arrived, self.ids)
        let (stream, continuation) = AsyncStream.makeStream(of: TaskResult.self)
        let deadline = ContinuousClock.now + timeout
        let reader = Task {
            var waiting = ids
            while !waiting.isEmpty, let result = await arrived.next(until: deadline) {
                guard waiting.contains(result.id) else { continue }
                guard result.status.isFinal else {
                    progress(result)
                    continue
                }
                waiting.remove(result.id)
                continuation.yield(result)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }
}

/// The results a waiter has read and not handed out yet, in order of arrival, and the one caller
/// waiting for the next of them.
final class ArrivedResults: Sendable {
    private struct State {
        var results = Deque<TaskResult>()
        var ended = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<TaskResult?, Never>)?
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())

    func add(_ result: TaskResult) {
        let waiter = state.withLock { state -> CheckedContinuation<TaskResult?, Never>? in
            guard let waiter = state.waiter else {
                state.results.append(result)
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: result)
    }

    /// No result comes any more: the waiting caller, and every later one, gets nil once the
    /// results read are handed out.
    func end() {
        let waiter = state.withLock { state -> CheckedContinuation<TaskResult?, Never>? in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The next result, or nil at `deadline`, once no result can come, or when the caller is
    /// cancelled. One caller at a time.
    func next(until deadline: ContinuousClock.Instant) async -> TaskResult? {
        let (ready, id) = state.withLock { state -> (TaskResult??, UInt64) in
            defer { state.nextWaiterID += 1 }
            return (Self.take(&state), state.nextWaiterID)
        }
        if let ready { return ready }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.release(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> TaskResult?? in
                    if let ready = Self.take(&state) { return ready }
                    // Cancelled before it could wait: the handler found no one to wake.
                    if Task.isCancelled || ContinuousClock.now >= deadline { return .some(nil) }
                    state.waiter = (id, continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            release(id)
        }
    }

    /// A result ready now (`.some(nil)`: none will come), or nil when the caller must wait.
    private static func take(_ state: inout State) -> TaskResult?? {
        if let result = state.results.popFirst() { return result }
        return state.ended ? .some(nil) : nil
    }

    /// Wakes waiter `id` with nil (its deadline passed, or it was cancelled), if it still waits.
    private func release(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<TaskResult?, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: nil)
    }
}
