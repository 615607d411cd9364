import Foundation

/// A task as it travels to a worker: body `{"task": NAME, "args": VALUE}` plus properties and
/// headers (docs/protocol.md). Pure value; the AMQP mapping lives in `WarrenMessaging`.
public struct TaskMessage: Sendable, Equatable {
    /// The task id (`message_id`); the same fire or retry keeps it.
    public var id: String
    /// A task name from the workers' catalog (`type`).
    public var task: String
    public var args: JSONValue
    /// The queue it is (or will be, after a delay) routed to.
    public var queue: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// 0–9, honoured by queues declared with priorities.
    public var priority: Int?
    public var schedule: String?
    /// ISO-8601 instant the schedule fired for.
    public var scheduledFor: String?
    /// Not run after this instant; recorded `expired`.
    public var expiresAt: Date?
    public var traceparent: String?
    /// Why a scheduled task went out outside the schedule's rhythm (`x-warren-trigger`):
    /// `manual`, `backfill`, `catchup`; nil for a regular fire and for ad-hoc tasks.
    public var trigger: String?
    /// The batch the task was published in (`x-warren-batch`); nil for a task published alone.
    public var batch: String?
    /// The workflow run this task is a step of (`x-warren-workflow`); nil for other tasks.
    public var workflow: String?
    /// When the task entered its queue (`x-warren-published-ms`), in milliseconds since the
    /// epoch, as read from a delivery; `outgoing` stamps the time of publishing.
    public var publishedMs: Int64?
    /// The attempt this series of retries began at (`x-warren-first-attempt`): 1, or for a task
    /// requeued from the dead letters the attempt it was requeued as. The catalog's
    /// `retry.attempts` counts from here, so a requeued task gets its retries afresh while its
    /// attempt numbers keep rising (each run stays apart in the store).
    public var firstAttempt = 1

    /// This attempt's place in its series of retries: 1 for the first.
    public var attemptInSeries: Int { attempt - firstAttempt + 1 }

    /// Whether a failed run of this attempt is retried under `retry`.
    public func retries(under retry: RetryPolicy) -> Bool {
        attemptInSeries < retry.attempts && attempt < RetryPolicy.attemptLimit
    }

    public init(id: String = TaskMessage.newID(), task: String, args: JSONValue = .object([:]), queue: String = WireNames.defaultQueue,
                attempt: Int = 1, priority: Int? = nil, schedule: String? = nil, scheduledFor: String? = nil,
                expiresAt: Date? = nil, traceparent: String? = nil, trigger: String? = nil, batch: String? = nil) {
        self.id = id
        self.task = task
        self.args = args
        self.queue = queue
        self.attempt = attempt
        self.priority = priority
        self.schedule = schedule
        self.scheduledFor = scheduledFor
        self.expiresAt = expiresAt
        self.traceparent = traceparent
        self.trigger = trigger
        self.batch = batch
    }

    /// A fresh random task id (a lower-case UUID).
    public static func newID() -> String { UUID().uuidString.lowercased() }

    /// `{"args":…,"task":…}`
    public var body: Data {
        var text = "{\"args\":"
        JSONText.write(args, into: &text)
        text += ",\"task\":"
        JSONText.writeString(task, into: &text)
        text += "}"
        return Data(text.utf8)
    }

    /// Reads a body; `args` may be absent (then `{}`).
    public static func parseBody(_ data: Data) throws(TaskMessageError) -> (task: String, args: JSONValue) {
        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(TaskMessageError) in try parseBody(bytes: raw) }
        }
        return try parsed.get()
    }

    /// Reads a body in place.
    public static func parseBody(bytes: UnsafeRawBufferPointer) throws(TaskMessageError) -> (task: String, args: JSONValue) {
        let members: [JSONValue?]?
        do {
            members = try JSONText.parseMembers(buffer: bytes.bindMemory(to: UInt8.self), keys: bodyKeys)
        } catch {
            throw .malformed("the body is not a JSON object with \"task\" and \"args\" (\(error))")
        }
        guard let members else { throw .malformed("the body is not a JSON object with \"task\" and \"args\"") }
        guard let taskValue = members[0] else { throw .malformed("the body has no \"task\"") }
        guard case .string(let task) = taskValue else { throw .malformed("\"task\" must be a string") }
        guard !task.isEmpty else { throw .malformed("\"task\" is empty") }
        return (task, members[1] ?? .object([:]))
    }

    private static let bodyKeys = ["task", "args"]
}

/// Why a delivery is not a task.
public enum TaskMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case tooLarge(bytes: Int, limit: Int)

    /// The dead-letter reason header value.
    public var reason: String {
        switch self {
        case .malformed: return "malformed"
        case .tooLarge: return "too-large"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let text): return "malformed task message: \(text)"
        case .tooLarge(let bytes, let limit): return "payload of \(bytes) bytes is over the \(limit)-byte limit"
        }
    }
}
