import Foundation
import RabbitMQ
import WarrenCore

/// The way in for reading Warren's state over AMQP without changing it: queue depths, dead
/// letters and delayed tasks, the active scheduler, the schedules it has in force and their
/// runtime state. `warren status`, `warren schedules list` and the dashboard go through it.
public struct Inspector: Sendable {
    public let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// Ready messages and consumers of each queue, nil for a queue that does not exist, in order.
    public func queues(_ names: [String]) async throws -> [(name: String, state: QueueState?)] {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }
        var states: [(name: String, state: QueueState?)] = []
        // A 404 closes the channel; the client opens it again for the next question.
        for name in names { states.append((name, try? await channel.inspectQueue(name))) }
        return states
    }

    /// Tasks waiting in the delay chain (`warren.delayed.N` and `warren.due`).
    public func delayedTasks() async throws -> Int {
        try await queues(DelayChain.queues).reduce(0) { $0 + ($1.state?.messageCount ?? 0) }
    }

    /// Whether a scheduler instance is active, and which one and since when as it announced
    /// itself (nil when no instance ever announced).
    public func activeScheduler() async throws -> ActiveScheduler {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }
        let held: Bool
        do {
            _ = try await channel.inspectQueue(WireNames.schedulerLock)
            held = true  // only visible to the holder itself
        } catch let error as AMQPError where error.replyCode == 405 {
            held = true
        } catch let error as AMQPError where error.replyCode == 404 {
            held = false
        }
        guard held else { return ActiveScheduler(active: false) }
        guard let leader = try await lastLeader() else { return ActiveScheduler(active: true) }
        return ActiveScheduler(active: true, instance: leader.instance, since: leader.since)
    }

    /// The last instance that announced itself active, and since when.
    func lastLeader(timeout: Duration = .seconds(3)) async throws -> (instance: String, since: String)? {
        let channel = try await connection.openChannel(confirms: false)
        defer { Task { try? await channel.close() } }  // nothing is held: stream reads take nothing away
        do {
            _ = try await channel.inspectQueue(WireNames.schedulerLeaders)
        } catch let error as AMQPError where error.replyCode == 404 {
            return nil
        }
        try await channel.setPrefetch(10)
        let consumer = try await channel.consume(queue: WireNames.schedulerLeaders, arguments: ["x-stream-offset": .string("last")])
        guard let delivery = try await consumer.firstDelivery(within: timeout), case .object(let fields)? = try? JSONText.parse(delivery.body),
              case .string(let instance)? = fields["instance"] else { return nil }
        if case .string(let since)? = fields["since"] { return (instance, since) }
        return (instance, "")
    }

    /// The schedules the active scheduler has in force, or nil when no scheduler has published
    /// them yet (none ever ran against this broker).
    public func loadedSchedules() async throws -> LoadedSchedules? {
        try await ScheduleStreams.lastLoaded(on: connection)
    }

    /// Every schedule's runtime state (pauses, last command).
    public func scheduleState() async throws -> ScheduleRuntimeState {
        try await ScheduleStreams.readState(on: connection)
    }
}

/// What `Inspector.activeScheduler` found.
public struct ActiveScheduler: Sendable, Equatable {
    public var active: Bool
    public var instance: String?
    /// ISO-8601, as the instance announced it.
    public var since: String?

    public init(active: Bool, instance: String? = nil, since: String? = nil) {
        self.active = active
        self.instance = instance
        self.since = since
    }
}

extension Consumer {
    /// The first delivery within `timeout`, or nil.
    public func firstDelivery(within timeout: Duration) async throws -> Delivery? {
        try await withThrowingTaskGroup(of: Delivery?.self) { group in
            group.addTask {
                for await delivery in self { return delivery }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// A ready message of a task queue, as `warren queue peek` shows it.
public struct QueuedTask: Sendable, Equatable {
    public var id: String
    /// The `type` property, else the body's `"task"`.
    public var task: String?
    /// When it was published (the `timestamp` property, whole seconds).
    public var publishedAt: Date?
    public var attempt: Int
    public var schedule: String?
    public var priority: Int?
    /// Whether the broker had handed it out before (a worker died, or an earlier peek).
    public var redelivered: Bool
    public var bytes: Int

    /// Reads a delivery without judging it: a message a worker would refuse is still shown.
    public init(delivery: Delivery) {
        let properties = delivery.properties
        let headers = properties.headers ?? [:]
        id = properties.messageID ?? ""
        task = properties.type ?? (try? TaskMessage.parseBody(delivery.body))?.task
        publishedAt = properties.timestamp
        attempt = (try? TaskMessage.attempt(in: headers)) ?? 1
        schedule = headers[WireHeaders.schedule]?.stringValue
        priority = properties.priority.map(Int.init)
        redelivered = delivery.redelivered
        bytes = delivery.bodyCount
    }

    public func json(now: Date) -> JSONValue {
        .object([
            "id": .string(id), "task": task.map(JSONValue.string) ?? .null,
            "published_at": publishedAt.map { .string(TaskResult.timestamp($0)) } ?? .null,
            "age_seconds": publishedAt.map { .number(max(0, now.timeIntervalSince($0)).rounded()) } ?? .null,
            "attempt": .integer(Int64(attempt)), "schedule": schedule.map(JSONValue.string) ?? .null,
            "priority": priority.map { .integer(Int64($0)) } ?? .null, "redelivered": .bool(redelivered), "bytes": .integer(Int64(bytes)),
        ])
    }
}

extension Inspector {
    /// The consumer priority of a peek: below every worker's (0), so the broker hands the peek
    /// only messages no worker has room for and a worker never waits for one.
    static let peekPriority: Int32 = -1000

    /// The first `limit` ready messages of `queue`, oldest first, without taking them from
    /// their consumers: they are held for a moment and return to the queue in their order,
    /// marked redelivered. Messages a worker has already taken (unacked) are not seen; nor are
    /// ready ones while a worker has room for them (it takes them at once). Nil for a queue
    /// that does not exist.
    public func peek(_ queue: String, limit: Int) async throws -> (state: QueueState, tasks: [QueuedTask])? {
        guard let state = try await queues([queue]).first?.state else { return nil }
        guard state.messageCount > 0, limit > 0 else { return (state, []) }
        let scan = try await QueueScan.hold(queue, limit: limit, priority: Self.peekPriority, idle: .milliseconds(300), on: connection)
        let tasks = scan.deliveries.map(QueuedTask.init(delivery:))
        await scan.release()
        return (state, tasks)
    }
}
