import Cron
import Foundation
import Synchronization

/// An ad-hoc task as a user asks for it: the fields of a `warren publish --batch` line (SPEC
/// §3a) and of `POST /api/tasks`. `validated()` turns it into a message and its delay.
public struct TaskRequest: Sendable, Equatable {
    public var task: String
    public var args: JSONValue = .object([:])
    public var queue: String = WireNames.defaultQueue
    public var id: String?
    public var priority: Int?
    /// Delivered after this long (held by the broker).
    public var delay: Duration?
    /// Delivered at this instant (held by the broker); exclusive with `delay`.
    public var at: Date?
    /// Not run (recorded expired) unless started within this long of being due.
    public var expires: Duration?
    public var traceparent: String?

    public init(task: String) {
        self.task = task
    }

    /// The fields a JSON request may carry.
    public static let fields: Set<String> = ["task", "args", "queue", "id", "priority", "delay", "at", "expires", "traceparent"]

    /// Reads one JSON object; an error names the field at fault. Without `"queue"`, the task
    /// goes to `defaultQueue(task)` (a catalog's `queue:` for it, see `TaskCatalog.queue(for:)`).
    public init(json: JSONValue, defaultQueue: (String) -> String = { _ in WireNames.defaultQueue }) throws(TaskRequestError) {
        guard case .object(let fields) = json else { throw TaskRequestError("expected a JSON object such as {\"task\": \"warren.echo\"}") }
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw TaskRequestError("unknown field \"\(unknown)\" (expected \(Self.fields.sorted().joined(separator: ", ")))")
        }
        func text(_ key: String) throws(TaskRequestError) -> String? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw TaskRequestError("\"\(key)\" must be a string")
            }
        }
        func duration(_ key: String) throws(TaskRequestError) -> Duration? {
            guard let value = try text(key) else { return nil }
            do { return try DurationSyntax.parse(value) } catch { throw TaskRequestError("\"\(key)\": \(error)") }
        }
        guard let task = try text("task") else { throw TaskRequestError("\"task\" is required") }
        self.init(task: task)
        if let args = fields["args"] { self.args = args }
        queue = try text("queue") ?? defaultQueue(task)
        id = try text("id")
        switch fields["priority"] {
        case nil, .null?: break
        case .integer(let value)?: priority = Int(clamping: value)
        default: throw TaskRequestError("\"priority\" must be an integer 0 to 9")
        }
        delay = try duration("delay")
        expires = try duration("expires")
        if let at = try text("at") {
            do {
                self.at = Date(timeIntervalSince1970: Double(try Timestamp.parse(at, in: .utc)))
            } catch {
                throw TaskRequestError("\"at\": \(error)")
            }
        }
        traceparent = try text("traceparent")
    }

    /// Checks every field and builds the message, due `delay` from `now`.
    public func validated(now: Date = Date()) throws(TaskRequestError) -> (message: TaskMessage, delay: Duration) {
        guard Names.isValidScheduleOrTaskName(task) else {
            throw TaskRequestError("task \"\(task)\": use letters, digits, \".\", \"_\", \"-\" and \":\"")
        }
        if let problem = Names.queueNameProblem(queue) { throw TaskRequestError("queue \(queue): \(problem)") }
        if let priority, !(0...9).contains(priority) { throw TaskRequestError("priority: expected 0 to 9, got \(priority)") }
        if let id, let problem = Names.taskIDProblem(id) { throw TaskRequestError("id: \(problem)") }
        if delay != nil && at != nil { throw TaskRequestError("give delay or at, not both") }
        var wait = delay ?? .zero
        if let at { wait = .milliseconds(max(0, Int64((at.timeIntervalSince(now) * 1000).rounded(.up)))) }
        if wait < .zero { throw TaskRequestError("delay: must not be negative") }
        if wait > .seconds(DelayChainLimit.longestDelaySeconds) {
            throw TaskRequestError("delay: at most \(DelayChainLimit.longestDelaySeconds / 86_400) days")
        }
        if let traceparent, !TraceParent.isValid(traceparent) {
            throw TaskRequestError("traceparent \"\(traceparent)\": expected 00-<32 hex>-<16 hex>-<2 hex>")
        }
        let expiresAt = expires.map { now.addingTimeInterval($0.secondsValue + wait.secondsValue) }
        let message = TaskMessage(id: id ?? TaskMessage.newID(), task: task, args: args, queue: queue, priority: priority,
                                  expiresAt: expiresAt, traceparent: traceparent)
        return (message, wait)
    }
}

/// The longest delay the broker-held delay chain can hold (2²⁸ − 1 seconds).
public enum DelayChainLimit {
    /// Levels of the chain: one per bit of the delay in seconds.
    public static let levels = 28
    public static let longestDelaySeconds = (1 << levels) - 1
}

/// W3C trace context `traceparent` values.
public enum TraceParent {
    /// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`: version, trace id, parent id,
    /// flags, lower-case hex; all-zero ids are invalid.
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2 else { return false }
        let hex = Set("0123456789abcdef")
        guard parts.allSatisfy({ $0.allSatisfy(hex.contains) }), parts[0] != "ff" else { return false }
        return parts[1].contains(where: { $0 != "0" }) && parts[2].contains(where: { $0 != "0" })
    }

    /// The traceparent of a new span: a child of `parent` (same trace id and flags, a new span
    /// id) when `parent` is a valid traceparent, else the root of a new, sampled trace.
    /// Written byte by byte, with ids from `UniqueID`: a worker makes one for every run.
    public static func child(of parent: String?) -> String {
        let span = UniqueID.next()
        if let parent, isValid(parent) {
            var bytes = Array(parent.utf8)
            UniqueID.write(span, into: &bytes, at: 36)
            return String(decoding: bytes, as: UTF8.self)
        }
        var bytes = Array("00-00000000000000000000000000000000-0000000000000000-01".utf8)
        UniqueID.write(UniqueID.next(), into: &bytes, at: 3)
        UniqueID.write(UniqueID.next(), into: &bytes, at: 19)
        UniqueID.write(span, into: &bytes, at: 36)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The trace id of a valid traceparent.
    public static func traceID(of traceparent: String) -> String? {
        guard isValid(traceparent) else { return nil }
        return String(traceparent.split(separator: "-")[1])
    }

}

/// A task request that cannot be published; the text names the field.
public struct TaskRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Duration {
    /// Seconds as a floating-point number.
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
