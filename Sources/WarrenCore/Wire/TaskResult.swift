import Foundation

/// One attempt's result, as published to `warren.results` (SPEC §3a, docs/protocol.md).
public struct TaskResult: Sendable, Codable, Equatable {
    public var id: String
    public var task: String
    public var queue: String
    public var schedule: String?
    /// ISO-8601, for scheduled fires.
    public var scheduledFor: String?
    public var attempt: Int
    public var status: ResultStatus
    /// Which worker ran it: `host:pid`.
    public var worker: String?
    /// ISO-8601 with milliseconds, UTC.
    public var startedAt: String?
    public var finishedAt: String?
    public var durationMs: Int64?
    public var exitCode: Int32?
    /// The tail of the task's output (stdout then stderr for `run` tasks).
    public var output: String?
    public var error: String?
    /// What the task returned (`warren.echo`: its args; typed handlers: their result).
    public var result: JSONValue?

    public init(id: String, task: String, queue: String, attempt: Int, status: ResultStatus) {
        self.id = id
        self.task = task
        self.queue = queue
        self.attempt = attempt
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case id, task, queue, schedule, attempt, status, worker, output, error, result
        case scheduledFor = "scheduled_for"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
        case exitCode = "exit_code"
    }

    /// Every field written, absent ones as null, keys sorted.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(task, forKey: .task)
        try container.encode(queue, forKey: .queue)
        try container.encode(schedule, forKey: .schedule)
        try container.encode(scheduledFor, forKey: .scheduledFor)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(status, forKey: .status)
        try container.encode(worker, forKey: .worker)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(output, forKey: .output)
        try container.encode(error, forKey: .error)
        try container.encode(result, forKey: .result)
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> TaskResult {
        try JSONDecoder().decode(TaskResult.self, from: data)
    }

    /// `2026-11-23T10:00:00.123Z`
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Reads an ISO-8601 instant with or without fractional seconds.
    public static func parseTimestamp(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date(text, strategy: .iso8601))
    }
}
