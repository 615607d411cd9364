import Foundation
import RabbitMQ
import WarrenCore

extension TaskMessage {
    /// The message to publish: straight to `warren.tasks`, or into the delay chain when `delay`
    /// is positive (rounded up to whole seconds). Mandatory either way: a message no queue takes
    /// comes back as a failed publish instead of vanishing.
    public func outgoing(delay: Duration = .zero) -> OutgoingMessage {
        let now = Date()
        // A first attempt leaves x-warren-attempt out (absent means 1): one header less per task
        // for the broker to store and every reader to parse.
        var headers: FieldTable = [WireHeaders.publishedAt: .int64(now.millisecondsSince1970)]
        if attempt != 1 { headers[WireHeaders.attempt] = .int64(Int64(attempt)) }
        if firstAttempt != 1 { headers[WireHeaders.firstAttempt] = .int64(Int64(firstAttempt)) }
        if let schedule { headers[WireHeaders.schedule] = .string(schedule) }
        if let scheduledFor { headers[WireHeaders.scheduledFor] = .string(scheduledFor) }
        if let expiresAt { headers[WireHeaders.expiresAt] = .string(TaskResult.timestamp(expiresAt)) }
        if let traceparent { headers[WireHeaders.traceparent] = .string(traceparent) }
        if let trigger { headers[WireHeaders.trigger] = .string(trigger) }
        if let batch { headers[WireHeaders.batch] = .string(batch) }
        if let workflow { headers[WireHeaders.workflow] = .string(workflow) }
        let properties = BasicProperties(
            contentType: "application/json", headers: headers, deliveryMode: 2,
            priority: priority.map { UInt8(clamping: $0) }, messageID: id, timestamp: now, type: task
        )
        let delaySeconds = Int((delay + .milliseconds(999)).components.seconds)
        if delay > .zero {
            return OutgoingMessage(body: body, exchange: DelayChain.entryExchange,
                                   routingKey: DelayChain.routingKey(delaySeconds: delaySeconds, queue: queue),
                                   properties: properties, mandatory: true)
        }
        return OutgoingMessage(body: body, exchange: WireNames.tasksExchange, routingKey: queue, properties: properties, mandatory: true)
    }

    /// Reads a delivery taken from `queue`. A message without `message_id` gets a fresh id.
    /// Headers Warren reads must be what Warren writes: an `x-warren-attempt` that is not a whole
    /// number from 1 to `RetryPolicy.attemptLimit`, a priority above 9, or an
    /// `x-warren-expires-at` / `x-warren-scheduled-for` that is not an ISO-8601 instant makes
    /// the message malformed (rejected with that reason) rather than quietly read another way.
    public init(delivery: Delivery, queue: String, maxPayload: Int) throws(TaskMessageError) {
        guard delivery.bodyCount <= maxPayload else { throw .tooLarge(bytes: delivery.bodyCount, limit: maxPayload) }
        let parsed = delivery.withUnsafeBody { bytes in
            Result { () throws(TaskMessageError) in try TaskMessage.parseBody(bytes: bytes) }
        }
        let (task, args) = try parsed.get()
        let properties = delivery.properties
        let headers = Headers(properties.headers)
        let attempt = try Self.attempt(headers.attempt)
        let firstAttempt = try Self.firstAttempt(headers.firstAttempt, attempt: attempt)
        if let priority = properties.priority, priority > 9 {
            throw .malformed("priority must be 0 to 9, got \(priority)")
        }
        let expiresAt = try Self.instant(headers.expiresAt, WireHeaders.expiresAt)
        // Checked, and kept as the scheduler wrote it (with the schedule's UTC offset).
        _ = try Self.instant(headers.scheduledFor, WireHeaders.scheduledFor)
        self.init(
            id: properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? TaskMessage.newID(),
            task: task, args: args, queue: queue,
            attempt: attempt,
            priority: properties.priority.map(Int.init),
            schedule: headers.schedule?.stringValue,
            scheduledFor: headers.scheduledFor?.stringValue,
            expiresAt: expiresAt,
            traceparent: headers.traceparent?.stringValue,
            trigger: headers.trigger?.stringValue,
            batch: headers.batch?.stringValue
        )
        self.firstAttempt = firstAttempt
        workflow = headers.workflow?.stringValue
        publishedMs = try Self.milliseconds(headers.publishedAt, WireHeaders.publishedAt)
    }

    /// The headers a task message's reader looks at, picked out in one pass over the table (a
    /// task carries one to three headers; looking each of ten names up would hash ten strings).
    private struct Headers {
        var attempt: FieldValue?
        var firstAttempt: FieldValue?
        var schedule: FieldValue?
        var scheduledFor: FieldValue?
        var expiresAt: FieldValue?
        var traceparent: FieldValue?
        var trigger: FieldValue?
        var batch: FieldValue?
        var workflow: FieldValue?
        var publishedAt: FieldValue?

        init(_ table: FieldTable?) {
            guard let table else { return }
            for (name, value) in table {
                switch name {
                case WireHeaders.attempt: attempt = value
                case WireHeaders.firstAttempt: firstAttempt = value
                case WireHeaders.schedule: schedule = value
                case WireHeaders.scheduledFor: scheduledFor = value
                case WireHeaders.expiresAt: expiresAt = value
                case WireHeaders.traceparent: traceparent = value
                case WireHeaders.trigger: trigger = value
                case WireHeaders.batch: batch = value
                case WireHeaders.workflow: workflow = value
                case WireHeaders.publishedAt: publishedAt = value
                default: break
                }
            }
        }
    }

    /// Milliseconds since the epoch, nil when the header is absent; anything but a non-negative
    /// whole number is malformed.
    static func milliseconds(_ header: FieldValue?, _ name: String) throws(TaskMessageError) -> Int64? {
        guard let header else { return nil }
        guard let value = header.intValue, value >= 0 else {
            throw .malformed("\(name) must be milliseconds since the epoch, got \(Self.describe(header))")
        }
        return value
    }

    /// The first attempt of the series (`x-warren-first-attempt`): 1 without the header;
    /// anything but a whole number from 1 to `attempt` is malformed.
    static func firstAttempt(_ header: FieldValue?, attempt: Int) throws(TaskMessageError) -> Int {
        guard let header else { return 1 }
        guard let value = header.intValue, (1...Int64(attempt)).contains(value) else {
            throw .malformed("\(WireHeaders.firstAttempt) must be a whole number from 1 to the attempt (\(attempt)), got \(Self.describe(header))")
        }
        return Int(value)
    }

    /// The attempt a message's headers state: 1 without `x-warren-attempt`; a header that is not
    /// a whole number from 1 to `RetryPolicy.attemptLimit` is malformed.
    public static func attempt(in headers: FieldTable) throws(TaskMessageError) -> Int {
        try attempt(headers[WireHeaders.attempt])
    }

    private static func attempt(_ header: FieldValue?) throws(TaskMessageError) -> Int {
        guard let header else { return 1 }
        guard let value = header.intValue, (1...Int64(RetryPolicy.attemptLimit)).contains(value) else {
            throw .malformed("\(WireHeaders.attempt) must be a whole number from 1 to \(RetryPolicy.attemptLimit), got \(Self.describe(header))")
        }
        return Int(value)
    }

    /// An ISO-8601 instant header, nil when absent; anything else there is malformed.
    private static func instant(_ header: FieldValue?, _ name: String) throws(TaskMessageError) -> Date? {
        guard let header else { return nil }
        guard let text = header.stringValue, let instant = TaskResult.parseTimestamp(text) else {
            throw .malformed("\(name) must be an ISO-8601 instant such as 2026-03-08T02:30:00Z, got \(describe(header))")
        }
        return instant
    }

    /// A header's value as an error message shows it.
    private static func describe(_ value: FieldValue) -> String {
        if let number = value.intValue { return "\(number)" }
        if let text = value.stringValue { return "\"\(text.prefix(100))\"" }
        return "\(value)"
    }
}
