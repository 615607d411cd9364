import Foundation
import RabbitMQ
import Synchronization
import WarrenCore

/// The two streams that make schedules operable at runtime without a new service: the state
/// stream of `ScheduleCommand`s (pause, resume, trigger, backfill), whose fold from its start
/// is every schedule's runtime state, and the stream of the active scheduler's
/// `LoadedSchedules`. Both are replicated streams, so they survive any process's restart, a
/// scheduler failover and (in a cluster) a node's loss.
public enum ScheduleStreams {
    /// Declares both streams (idempotent). The state stream has no retention limit: a pause
    /// given a year ago must still hold (each command is a few hundred bytes).
    public static func declare(on channel: Channel) async throws {
        _ = try await channel.declare(QueueSpec(name: WireNames.scheduleStateStream, arguments: QueueArguments(type: .stream)))
        var loaded = QueueArguments(type: .stream)
        loaded.extra["x-max-age"] = .string("7D")
        _ = try await channel.declare(QueueSpec(name: WireNames.loadedSchedulesStream, arguments: loaded))
    }

    /// Appends a command to the state stream; returns once the broker confirmed it (`channel`
    /// must be in confirm mode).
    public static func append(_ command: ScheduleCommand, on channel: Channel) async throws {
        try await channel.publish(command.body, exchange: "", routingKey: WireNames.scheduleStateStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
    }

    /// Reads the state stream from its start until everything appended before the call is read
    /// (a marker this call appends came back), then keeps following it: `changed` is called
    /// with the new state after each batch that changed what fires. Returns the state read and
    /// the task that follows; cancelling it (or closing `connection`) stops the reading and
    /// closes its channel. Gives up when `stall` passes without a delivery before the marker.
    public static func follow(on connection: Connection, stall: Duration = .seconds(15),
                              changed: @escaping @Sendable (ScheduleRuntimeState) -> Void = { _ in })
        async throws -> (state: ScheduleRuntimeState, following: Task<Void, Never>) {
        let channel = try await connection.openChannel(confirms: false)
        do {
            try await declare(on: channel)
            try await channel.setPrefetch(1000)
        } catch {
            try? await channel.close()
            throw error
        }
        let consumer = try await channel.consume(queue: WireNames.scheduleStateStream, arguments: ["x-stream-offset": .string("first")])
        let marker = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier) \(UUID().uuidString)"
        let reader = StreamReaderState()
        let caughtUp = CaughtUpSignal()
        let following = Task {
            for await batch in consumer.batches {
                reader.lastProgress.withLock { $0 = .now }
                var changes = false
                for delivery in batch {
                    guard let command = ScheduleCommand(body: delivery.body) else { continue }
                    if command.operation == .marker {
                        if command.schedule == marker { caughtUp.signal() }
                        continue
                    }
                    changes = reader.state.withLock { $0.apply(command) } || changes
                }
                try? batch.last?.ack(multiple: true)
                if changes { changed(reader.state.withLock { $0 }) }
            }
            caughtUp.finish()
            // Closing the channel (not only cancelling the consumer) leaves nothing behind.
            try? await channel.close()
        }
        let publisher: Channel
        do {
            publisher = try await connection.openChannel(confirms: true)
        } catch {
            following.cancel()
            throw error
        }
        do {
            try await append(ScheduleCommand(.marker, schedule: marker, by: "", at: 0), on: publisher)
            try? await publisher.close()
        } catch {
            try? await publisher.close()
            following.cancel()
            throw error
        }
        // A long stream may take a while; only a stream that stops delivering is given up on.
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if ContinuousClock.now - reader.lastProgress.withLock({ $0 }) > stall { caughtUp.finish() }
            }
        }
        defer { watchdog.cancel() }
        guard await caughtUp.wait(timeout: .seconds(86_400)) else {
            following.cancel()
            throw ScheduleStreamError(message: "the schedule state stream \(WireNames.scheduleStateStream) delivered nothing for \(stall) before it was read to its end")
        }
        return (reader.state.withLock { $0 }, following)
    }

    /// Every schedule's runtime state now (reads the state stream to its end, then stops).
    public static func readState(on connection: Connection) async throws -> ScheduleRuntimeState {
        let (state, following) = try await follow(on: connection)
        following.cancel()
        return state
    }

    /// Appends what the active scheduler now has in force (confirmed).
    public static func publishLoaded(_ loaded: LoadedSchedules, on channel: Channel) async throws {
        try await channel.publish(loaded.body, exchange: "", routingKey: WireNames.loadedSchedulesStream,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2, timestamp: Date()))
    }

    /// The schedules the active scheduler last said it has in force, or nil if no scheduler has
    /// published them yet (nothing arrived within `timeout`: a stream's message count is not
    /// reported over AMQP, so an empty stream is told only by waiting).
    public static func lastLoaded(on connection: Connection, timeout: Duration = .seconds(2)) async throws -> LoadedSchedules? {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // a stream read takes nothing away
        try await declare(on: channel)
        try await channel.setPrefetch(100)
        // "last" starts at the stream's last chunk; its last entry is the newest.
        let consumer = try await channel.consume(queue: WireNames.loadedSchedulesStream, arguments: ["x-stream-offset": .string("last")])
        let newest = Mutex<Data?>(nil)
        let reading = Task {
            for await batch in consumer.batches {
                if let last = batch.last { newest.withLock { $0 = last.body } }
                try? batch.last?.ack(multiple: true)
            }
        }
        // The chunk arrives at once; wait for its first entry, then briefly for the rest of it.
        let deadline = ContinuousClock.now + timeout
        while newest.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if newest.withLock({ $0 }) != nil { try await Task.sleep(for: .milliseconds(100)) }
        reading.cancel()
        try? await consumer.cancel()
        guard let body = newest.withLock({ $0 }) else { return nil }
        guard let loaded = LoadedSchedules(body: body) else {
            throw ScheduleStreamError(message: "the last entry of \(WireNames.loadedSchedulesStream) is not a loaded-schedules record")
        }
        return loaded
    }
}

/// What a state stream reader shares between its reading task and its caller.
private final class StreamReaderState: Sendable {
    let state = Mutex(ScheduleRuntimeState())
    let lastProgress = Mutex(ContinuousClock.now)
}

/// A schedule stream that could not be read.
public struct ScheduleStreamError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
