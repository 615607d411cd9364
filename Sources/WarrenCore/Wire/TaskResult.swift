import Cron
import Foundation

/// One attempt's result, as published to `warren.results` (SPEC §3a, docs/protocol.md).
public struct TaskResult: Sendable, Equatable {
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
    /// What the task was called with (`TaskResult.boundedArgs`: at most the task's `max_output`
    /// as JSON text); nil from workers that do not send them.
    public var args: JSONValue?
    /// The W3C trace context the task carried, passed on to its results.
    public var traceparent: String?
    /// Why a schedule's task went out outside its rhythm, copied from the task's
    /// `x-warren-trigger` (`catchup`, `manual`, `backfill`); nil for a regular fire and for tasks
    /// no schedule published.
    public var trigger: String?
    /// The batch the task was published in, copied from its `x-warren-batch`; nil for a task
    /// published on its own.
    public var batch: String?
    /// When the task entered its queue (ISO-8601, from its `x-warren-published-ms`): queue wait
    /// is `startedAt` − this, end to end `finishedAt` − this. Nil from publishers before it.
    public var publishedAt: String?
    /// Which run of the delivery this is (`newRunID()`): a worker makes a new one each time it
    /// starts handling a delivery, so a task the broker handed out twice has two. Nil in results
    /// of workers from before run ids: storage then keeps one run per `(id, attempt)`.
    public var runID: String?
    /// The workflow run the task is a step of, copied from its `x-warren-workflow`; nil for
    /// other tasks.
    public var workflow: String?
    /// Whether the broker marked the delivery as redelivered: it had handed it out before (a
    /// worker or its connection died, or the task was requeued) and the task may have run already.
    public var redelivered = false

    public init(id: String, task: String, queue: String, attempt: Int, status: ResultStatus) {
        self.id = id
        self.task = task
        self.queue = queue
        self.attempt = attempt
        self.status = status
    }

    /// The result as JSON text: every key present (null when absent), keys sorted.
    public func jsonData() throws -> Data {
        var json = JSONFieldWriter(capacity: 400 + (output?.utf8.count ?? 0) + (error?.utf8.count ?? 0))
        // In key order.
        json.field("{\"args\":", args ?? .null)
        json.field(",\"attempt\":", Int64(attempt))
        json.field(",\"batch\":", batch)
        json.field(",\"duration_ms\":", durationMs)
        json.field(",\"error\":", error)
        json.field(",\"exit_code\":", exitCode.map(Int64.init))
        json.field(",\"finished_at\":", finishedAt)
        json.field(",\"id\":", id)
        json.field(",\"output\":", output)
        json.field(",\"published_at\":", publishedAt)
        json.field(",\"queue\":", queue)
        json.field(",\"redelivered\":", redelivered)
        json.field(",\"result\":", result ?? .null)
        json.field(",\"run_id\":", runID)
        json.field(",\"schedule\":", schedule)
        json.field(",\"scheduled_for\":", scheduledFor)
        json.field(",\"started_at\":", startedAt)
        json.field(",\"status\":", status.rawValue)
        json.field(",\"task\":", task)
        json.field(",\"traceparent\":", traceparent)
        json.field(",\"trigger\":", trigger)
        json.field(",\"worker\":", worker)
        if let workflow { json.field(",\"workflow\":", workflow) }
        json.close()
        return Data(json.bytes)
    }

    /// Reads a result published by any worker.
    public static func decode(_ data: Data) throws -> TaskResult {
        guard case .object(let fields) = try JSONText.parse(data) else { throw TaskResultError("a result must be a JSON object") }
        func text(_ key: String) -> String? { if case .string(let value)? = fields[key] { return value } else { return nil } }
        func integer(_ key: String) -> Int64? { if case .integer(let value)? = fields[key] { return value } else { return nil } }
        guard let id = text("id"), let task = text("task") else { throw TaskResultError("a result needs \"id\" and \"task\"") }
        guard let statusText = text("status"), let status = ResultStatus(rawValue: statusText) else {
            throw TaskResultError("a result needs a known \"status\"")
        }
        var result = TaskResult(id: id, task: task, queue: text("queue") ?? "", attempt: Int(integer("attempt") ?? 1), status: status)
        result.schedule = text("schedule")
        result.scheduledFor = text("scheduled_for")
        result.worker = text("worker")
        result.startedAt = text("started_at")
        result.finishedAt = text("finished_at")
        result.durationMs = integer("duration_ms")
        result.exitCode = integer("exit_code").map { Int32(clamping: $0) }
        result.output = text("output")
        result.error = text("error")
        if let value = fields["result"], value != .null { result.result = value }
        if let value = fields["args"], value != .null { result.args = value }
        result.traceparent = text("traceparent")
        result.trigger = text("trigger")
        result.batch = text("batch")
        result.publishedAt = text("published_at")
        result.runID = text("run_id")
        result.workflow = text("workflow")
        if case .bool(let redelivered)? = fields["redelivered"] { result.redelivered = redelivered }
        return result
    }

    /// `args` as a result carries them: as given when their JSON text is at most `limit` bytes,
    /// else `{"truncated": true, "bytes": N, "head": "<the first KiB of the text>"}`.
    /// The bound for tasks without a catalog definition (rejected ones): `max_output`'s default.
    public static let defaultArgsLimit = 64 * 1024

    /// `atMost`: a known bound on the args' size (the message body holding them), which spares
    /// writing them out to measure when it is within `limit`.
    public static func boundedArgs(_ args: JSONValue, limit: Int, atMost: Int? = nil) -> JSONValue {
        if let atMost, atMost <= limit { return args }
        let text = JSONText.write(args)
        let bytes = text.utf8.count
        guard bytes > limit else { return args }
        var head = ""
        for character in text {
            if head.utf8.count + character.utf8.count > min(limit, 1024) { break }
            head.append(character)
        }
        return .object(["truncated": .bool(true), "bytes": .integer(Int64(bytes)), "head": .string(head)])
    }

    /// `2026-11-23T10:00:00.123Z`
    public static func timestamp(_ date: Date) -> String {
        Timestamp.formatUTC(milliseconds: date.millisecondsSince1970)
    }

    /// The largest result message body: the backend stores none larger, and a worker sends a
    /// result that would be larger without its `result` (docs/protocol.md).
    public static let largestBody = 4 << 20

    /// A new run id: 16 lowercase hex digits (`UniqueID`: unique in the process, from a random
    /// start), the one format of `run_id`.
    public static func newRunID() -> String {
        UniqueID.nextHex()
    }

    /// Reads an ISO-8601 instant with or without fractional seconds.
    public static func parseTimestamp(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date(text, strategy: .iso8601))
    }
}

/// A result message that could not be read.
public struct TaskResultError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a flat JSON object field by field, each key given as its literal text.
private struct JSONFieldWriter {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func field(_ key: StaticString, _ value: String?) {
        appendLiteral(key)
        if let value { JSONText.writeString(value, into: &bytes) } else { appendNull() }
    }

    mutating func field(_ key: StaticString, _ value: Int64?) {
        appendLiteral(key)
        if let value { JSONText.writeInteger(value, into: &bytes) } else { appendNull() }
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        appendLiteral(key)
        if value { appendLiteral("true") } else { appendLiteral("false") }
    }

    mutating func field(_ key: StaticString, _ value: JSONValue) {
        appendLiteral(key)
        JSONText.write(value, into: &bytes)
    }

    mutating func close() { bytes.append(UInt8(ascii: "}")) }

    private mutating func appendNull() { appendLiteral("null") }

    private mutating func appendLiteral(_ key: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    }
}
