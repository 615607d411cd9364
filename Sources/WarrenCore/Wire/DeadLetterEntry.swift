import Foundation

/// One message in `warren.dead-letter` as operators see it (`warren dead`, `/api/dead-letters`,
/// the dashboard). Pure value; `DeadLetterQueue` in `WarrenMessaging` reads it from a delivery.
public struct DeadLetterEntry: Sendable, Equatable {
    /// The task (or result) id: the message's `message_id`, empty when it had none.
    public var id: String
    /// The task name: the `type` property, else the body's `"task"`; nil when neither says.
    public var task: String?
    /// Why it was dead-lettered (`x-warren-reason`): `malformed`, `unknown-task`, `too-large`,
    /// `bad-args`, `failed`, `retry-refused`, `undeliverable`, `unstorable`; `unknown` when the
    /// header is missing.
    public var reason: String
    /// The error in words (`x-warren-error`).
    public var error: String?
    /// The queue it was taken from (`x-warren-original-queue`), where a requeue sends it.
    public var queue: String?
    /// When it was dead-lettered (`x-warren-dead-at`); older copies have only `publishedAt`.
    public var deadAt: Date?
    /// When it was first published (the `timestamp` property).
    public var publishedAt: Date?
    /// The attempt that was dead-lettered (`x-warren-attempt`), nil for a result message.
    public var attempt: Int?
    public var schedule: String?
    /// The task's args when the body is a task message; nil otherwise.
    public var args: JSONValue?
    /// The body's size in bytes.
    public var bytes: Int

    public init(id: String, task: String?, reason: String, error: String?, queue: String?, deadAt: Date?, publishedAt: Date?,
                attempt: Int?, schedule: String?, args: JSONValue?, bytes: Int) {
        self.id = id
        self.task = task
        self.reason = reason
        self.error = error
        self.queue = queue
        self.deadAt = deadAt
        self.publishedAt = publishedAt
        self.attempt = attempt
        self.schedule = schedule
        self.args = args
        self.bytes = bytes
    }

    /// When it went to the dead letters, as well as it is known.
    public var when: Date? { deadAt ?? publishedAt }

    /// Whether an operator's selection takes this entry: any of `ids` (none given: every id),
    /// and `reason` when given.
    public func matches(ids: Set<String>, reason: String?) -> Bool {
        (ids.isEmpty || ids.contains(id)) && (reason.map { $0 == self.reason } ?? true)
    }

    /// The JSON the CLI's `--json` and the API give.
    public var json: JSONValue {
        .object([
            "id": .string(id), "task": task.map(JSONValue.string) ?? .null, "reason": .string(reason),
            "error": error.map(JSONValue.string) ?? .null, "queue": queue.map(JSONValue.string) ?? .null,
            "dead_at": when.map { .string(TaskResult.timestamp($0)) } ?? .null,
            "published_at": publishedAt.map { .string(TaskResult.timestamp($0)) } ?? .null,
            "attempt": attempt.map { .integer(Int64($0)) } ?? .null, "schedule": schedule.map(JSONValue.string) ?? .null,
            "args": args ?? .null, "bytes": .integer(Int64(bytes)),
        ])
    }

    /// The reason values Warren writes, for help texts and validation of `--reason`.
    public static let reasons = ["malformed", "unknown-task", "too-large", "bad-args", "failed", "retry-refused", "undeliverable", "unstorable"]
}
