import WarrenCore

/// `warren.echo`, `warren.sleep` and `warren.fail`: always present, for smoke tests and benchmarks.
enum BuiltinTasks {
    static func run(_ name: String, args: JSONValue) async -> TaskOutcome {
        switch name {
        case "warren.echo":
            return TaskOutcome(status: .succeeded, result: args)
        case "warren.sleep":
            var seconds = 0.5
            if case .null = args {
            } else if case .object(let values) = args {
                switch values["seconds"] {
                case .number(let value)?: seconds = value
                case .integer(let value)?: seconds = Double(value)
                case nil: break
                default: return TaskOutcome(status: .badArguments, error: "argument \"seconds\" must be a number")
                }
            } else {
                return TaskOutcome(status: .badArguments, error: "args must be an object such as {\"seconds\": 0.5}")
            }
            guard seconds >= 0, seconds <= 86_400 * 7 else {
                return TaskOutcome(status: .badArguments, error: "argument \"seconds\" must be between 0 and 604800")
            }
            do {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return TaskOutcome(status: .succeeded, result: .object(["slept": .number(seconds)]))
            } catch {
                return TaskOutcome(status: .interrupted)
            }
        default:
            var message = "warren.fail"
            if case .object(let values) = args, case .string(let text)? = values["message"] { message = text }
            return TaskOutcome(status: .failed, error: message)
        }
    }
}
