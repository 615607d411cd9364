import Foundation

/// How a failed task is retried: exponential backoff, optionally with jitter.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, first included; 1 means no retry.
    public var attempts: Int
    /// Delay before the second attempt; doubled for each further one.
    public var backoff: Duration
    public var maxBackoff: Duration
    /// Waits a random time between half the delay and the delay ("equal jitter").
    public var jitter: Bool

    public init(attempts: Int = 1, backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(3600), jitter: Bool = true) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.jitter = jitter
    }

    /// No retries.
    public static let none = RetryPolicy()

    /// The most attempts a task may have: the catalog's `retry.attempts` and a message's
    /// `x-warren-attempt` header both stay within 1…100.
    public static let attemptLimit = 100

    /// The delay before the attempt after `attempt` (1-based); `random` in 0…1.
    public func delay(after attempt: Int, random: Double = .random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let seconds = min(backoff.seconds * pow(2, Double(exponent)), maxBackoff.seconds)
        let delayed = jitter ? seconds / 2 + seconds / 2 * random : seconds
        return .milliseconds(Int64(delayed * 1000))
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// An external program run for a task: argv with `{arg}` placeholders, never through a shell.
public struct RunSpecification: Sendable, Equatable {
    /// argv; `{name}` is replaced by the task's arg `name` (a string, number or boolean).
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?

    /// argv with placeholders filled from `args`; throws naming the first missing or
    /// non-scalar argument.
    public func argv(with args: JSONValue) throws(TaskArgumentError) -> [String] {
        try arguments.map { element throws(TaskArgumentError) in try Placeholders.fill(element, from: args) }
    }
}

/// An arg a placeholder needs that the task did not get, or got as a list or mapping.
public struct TaskArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let problem: String
    public var description: String { "argument \"\(name)\" \(problem)" }
}

/// A task a worker can run.
public struct TaskDefinition: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case run(RunSpecification)
        /// An HTTP request; 2xx is success.
        case http(HTTPSpecification)
        /// `warren.echo`, `warren.sleep`, `warren.fail`.
        case builtin(String)
        /// A handler registered in Swift by a program embedding the worker.
        case handler(TaskHandler)
    }

    public var name: String
    public var kind: Kind
    /// After this long the task is stopped (SIGTERM, then SIGKILL after `killAfter`).
    public var timeout: Duration?
    public var killAfter: Duration
    public var retry: RetryPolicy
    /// Bytes of output kept (the tail).
    public var maxOutput: Int
    /// The queue publishers and schedules send this task to when they name none (`queue:`);
    /// nil: `default`. A worker started without `--queue` consumes it too.
    public var queue: String?

    public init(name: String, kind: Kind, timeout: Duration? = nil, killAfter: Duration = .seconds(10),
                retry: RetryPolicy = .none, maxOutput: Int = 64 * 1024) {
        self.name = name
        self.kind = kind
        self.timeout = timeout
        self.killAfter = killAfter
        self.retry = retry
        self.maxOutput = maxOutput
    }
}

/// A task implemented in Swift: takes the task's args, returns its result or throws.
public struct TaskHandler: Sendable, Equatable {
    /// Identifies the handler (its task name) for equality.
    public let name: String
    public let run: @Sendable (JSONValue) async throws -> JSONValue

    public init(name: String, run: @escaping @Sendable (JSONValue) async throws -> JSONValue) {
        self.name = name
        self.run = run
    }

    public static func == (lhs: TaskHandler, rhs: TaskHandler) -> Bool { lhs.name == rhs.name }
}

/// Thrown by a Swift handler whose args do not decode: the task is rejected (`bad-args`), not retried.
public struct TaskArgumentsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
