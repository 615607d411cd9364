import Foundation
import WarrenCore

/// How running a task ended, before retries are decided.
struct TaskOutcome: Sendable {
    enum Status: Sendable {
        case succeeded
        case failed
        case timedOut
        /// Stopped because the worker is shutting down: no result, the delivery goes back.
        case interrupted
        /// The task could not start with these args (a placeholder's arg is missing).
        case badArguments
    }

    var status: Status
    var exitCode: Int32?
    var output: String?
    var error: String?
    var result: JSONValue?
}
