import Cron
import WarrenCore

/// Runs a Swift handler, with the task's timeout as a cancellation deadline.
enum HandlerRunner {
    static func run(_ handler: TaskHandler, definition: TaskDefinition, args: JSONValue) async -> TaskOutcome {
        guard let timeout = definition.timeout else { return await invoke(handler, args: args) }
        return await withTaskGroup(of: TaskOutcome?.self) { group in
            group.addTask { await invoke(handler, args: args) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : TaskOutcome(status: .timedOut, error: "timed out after \(DurationSyntax.format(timeout))")
            }
            var outcome: TaskOutcome?
            for await next in group {
                guard let next else { continue }
                if outcome == nil { outcome = next }
                group.cancelAll()
            }
            return outcome ?? TaskOutcome(status: .interrupted)
        }
    }

    private static func invoke(_ handler: TaskHandler, args: JSONValue) async -> TaskOutcome {
        do {
            let result = try await handler.run(args)
            return Task.isCancelled ? TaskOutcome(status: .interrupted) : TaskOutcome(status: .succeeded, result: result)
        } catch let error as TaskArgumentsError {
            return TaskOutcome(status: .badArguments, error: error.description)
        } catch {
            if Task.isCancelled { return TaskOutcome(status: .interrupted) }
            return TaskOutcome(status: .failed, error: "\(error)")
        }
    }
}
