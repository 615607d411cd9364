import Foundation
import RabbitMQ
import WarrenCore

/// The way in for acting on `warren.dead-letter`: list what waits there without taking it,
/// requeue messages to the queue they came from, purge. `warren dead`, `/api/dead-letters` and
/// the dashboard go through it.
public struct DeadLetterQueue: Sendable {
    public let connection: Connection

    /// The most messages one call looks at (the broker hands a consumer at most this many
    /// unacknowledged messages at once); a longer queue is acted on in several calls.
    public static let scanLimit = 50_000

    public init(connection: Connection) {
        self.connection = connection
    }

    /// Messages in the queue now (ready ones: none is held by a consumer normally), or nil
    /// when the queue does not exist.
    public func count() async throws -> Int? {
        try await Inspector(connection: connection).queues([WireNames.deadLetterQueue]).first?.state?.messageCount
    }

    /// The dead letters, oldest first, at most `scanLimit`; nothing is taken away (each returns
    /// to the queue, in its place).
    public func list() async throws -> [DeadLetterEntry] {
        guard try await count() != nil else { return [] }
        let scan = try await QueueScan.hold(WireNames.deadLetterQueue, limit: Self.scanLimit, on: connection)
        let entries = scan.deliveries.map(DeadLetterEntry.init(delivery:))
        await scan.release()
        return entries
    }

    /// What a requeue did with each selected dead letter.
    public struct Requeued: Sendable {
        public var entry: DeadLetterEntry
        /// nil when it went back to its queue (confirmed, and removed from the dead letters);
        /// else why it stayed.
        public var problem: String?
    }

    /// Sends each dead letter `selected` takes back to the queue it came from, confirmed, then
    /// removes it from the dead letters: a task gets attempt + 1 with its retries afresh
    /// (`x-warren-first-attempt`) and `x-warren-trigger: requeue`, so its runs are recorded
    /// after the earlier ones and marked as a requeue. One that cannot go back (no original
    /// queue, the queue is gone, the attempt limit is reached) stays, with the reason.
    public func requeue(where selected: (DeadLetterEntry) -> Bool) async throws -> [Requeued] {
        guard try await count() != nil else { return [] }
        let scan = try await QueueScan.hold(WireNames.deadLetterQueue, limit: Self.scanLimit, on: connection)
        var outcomes: [Requeued] = []
        var sending: [(delivery: Delivery, index: Int, message: OutgoingMessage)] = []
        for delivery in scan.deliveries {
            let entry = DeadLetterEntry(delivery: delivery)
            guard selected(entry) else { continue }
            outcomes.append(Requeued(entry: entry))
            switch DeadLetter.requeued(delivery) {
            case .success(let message): sending.append((delivery, outcomes.count - 1, message))
            case .failure(let problem): outcomes[outcomes.count - 1].problem = problem.message
            }
        }
        if !sending.isEmpty {
            let publisher: Channel
            do {
                publisher = try await connection.openChannel(confirms: true)
            } catch {
                await scan.release()
                throw error
            }
            let confirmed = await publisher.publishBatch(sending.map(\.message))
            for (item, outcome) in zip(sending, confirmed) {
                switch outcome {
                case .success: try? item.delivery.ack()
                case .failure(let error): outcomes[item.index].problem = "its queue \(item.message.routingKey) did not take it: \(error)"
                }
            }
            try? await publisher.close()
        }
        await scan.release()
        return outcomes
    }

    /// Removes the dead letters `selected` takes (all of them with `nil`); returns how many.
    public func purge(where selected: ((DeadLetterEntry) -> Bool)? = nil) async throws -> Int {
        guard try await count() != nil else { return 0 }
        guard let selected else {
            let channel = try await connection.openChannel(confirms: false)
            defer { Task { try? await channel.close() } }
            return try await channel.purgeQueue(WireNames.deadLetterQueue)
        }
        let scan = try await QueueScan.hold(WireNames.deadLetterQueue, limit: Self.scanLimit, on: connection)
        var purged = 0
        for delivery in scan.deliveries where selected(DeadLetterEntry(delivery: delivery)) {
            if (try? delivery.ack()) != nil { purged += 1 }
        }
        await scan.release()
        return purged
    }
}

extension DeadLetterEntry {
    /// Reads a dead-lettered delivery (a task, or a result the backend could not store).
    public init(delivery: Delivery) {
        let properties = delivery.properties
        let headers = properties.headers ?? [:]
        let body = try? JSONText.parse(delivery.body)
        let task = properties.type ?? body?["task"]?.stringValue
        let isTask = (try? TaskMessage.parseBody(delivery.body)) != nil && headers[WireHeaders.deadLetterQueue]?.stringValue != WireNames.resultsQueue
        // A task without x-warren-attempt is a first attempt.
        let attempt = headers[WireHeaders.attempt]?.intValue.map { Int($0) } ?? (isTask ? 1 : nil)
        self.init(
            id: properties.messageID ?? body?["id"]?.stringValue ?? "",
            task: task,
            reason: headers[WireHeaders.deadLetterReason]?.stringValue ?? "unknown",
            error: headers[WireHeaders.deadLetterError]?.stringValue,
            queue: headers[WireHeaders.deadLetterQueue]?.stringValue,
            deadAt: headers[WireHeaders.deadLetterAt]?.stringValue.flatMap(TaskResult.parseTimestamp),
            publishedAt: properties.timestamp,
            attempt: isTask ? attempt ?? 1 : nil,
            schedule: headers[WireHeaders.schedule]?.stringValue,
            args: isTask ? body?["args"] ?? .object([:]) : nil,
            bytes: delivery.bodyCount
        )
    }
}

extension DeadLetter {
    /// Why a dead letter cannot be requeued.
    public struct RequeueProblem: Error, Sendable {
        public let message: String
    }

    /// The message a requeue publishes for a dead letter: its body and properties, without the
    /// dead-letter headers, to its original queue through the default exchange (mandatory, so
    /// a queue that is gone fails the publish). A task message goes as attempt + 1, the first
    /// of a fresh series of retries, with trigger `requeue`.
    public static func requeued(_ delivery: Delivery) -> Result<OutgoingMessage, RequeueProblem> {
        var properties = delivery.properties
        var headers = properties.headers ?? [:]
        guard let queue = headers[WireHeaders.deadLetterQueue]?.stringValue, !queue.isEmpty else {
            return .failure(RequeueProblem(message: "it names no original queue (\(WireHeaders.deadLetterQueue))"))
        }
        for name in [WireHeaders.deadLetterReason, WireHeaders.deadLetterError, WireHeaders.deadLetterQueue, WireHeaders.deadLetterAt] {
            headers[name] = nil
        }
        if queue != WireNames.resultsQueue {
            let attempt = (try? TaskMessage.attempt(in: headers)) ?? 1
            guard attempt < RetryPolicy.attemptLimit else {
                return .failure(RequeueProblem(message: "it reached the attempt limit (\(RetryPolicy.attemptLimit))"))
            }
            headers[WireHeaders.attempt] = .int64(Int64(attempt + 1))
            headers[WireHeaders.firstAttempt] = .int64(Int64(attempt + 1))
            headers[WireHeaders.trigger] = .string("requeue")
        }
        properties.headers = headers
        properties.deliveryMode = 2
        return .success(OutgoingMessage(body: delivery.body, exchange: "", routingKey: queue, properties: properties, mandatory: true))
    }
}
