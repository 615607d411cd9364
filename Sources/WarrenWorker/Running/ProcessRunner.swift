import Cron
import Foundation
import Subprocess
import WarrenCore
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a catalog `run` task: argv with placeholders filled, no shell, in its own session so
/// that a timeout or a cancellation stops the whole process group (SIGTERM, then SIGKILL after
/// the task's `kill_after`).
enum ProcessRunner {
    /// `traceparent` is the run's span, given to the process as `TRACEPARENT`.
    static func run(_ specification: RunSpecification, definition: TaskDefinition, args: JSONValue, traceparent: String? = nil,
                    reap: Bool = false) async -> TaskOutcome {
        let argv: [String]
        do {
            argv = try specification.argv(with: args)
        } catch {
            return TaskOutcome(status: .badArguments, error: error.description)
        }
        guard let timeout = definition.timeout else {
            return await execute(argv, specification: specification, definition: definition, traceparent: traceparent, reap: reap)
        }
        return await withTaskGroup(of: TaskOutcome?.self) { group in
            group.addTask { await execute(argv, specification: specification, definition: definition, traceparent: traceparent, reap: reap) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : TaskOutcome(status: .timedOut)
            }
            var timedOut = false
            var processOutcome: TaskOutcome?
            for await next in group {
                guard let next else { continue }  // the timer, cancelled
                if next.status == .timedOut, processOutcome == nil, !timedOut {
                    timedOut = true
                    group.cancelAll()  // stops the process group; its outcome still arrives
                    continue
                }
                processOutcome = next
                group.cancelAll()
            }
            if timedOut {
                return TaskOutcome(status: .timedOut, output: processOutcome?.output,
                                   error: "timed out after \(DurationSyntax.format(timeout))")
            }
            return processOutcome ?? TaskOutcome(status: .interrupted)
        }
    }

    private static func execute(_ argv: [String], specification: RunSpecification, definition: TaskDefinition, traceparent: String?,
                                reap: Bool) async -> TaskOutcome {
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: definition.killAfter),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1)),
        ]
        var executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        var arguments = Array(argv.dropFirst())
        if reap {
            let searchPath = specification.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
            guard let program = TaskReaper.resolve(argv[0], path: searchPath) else {
                return TaskOutcome(status: .failed, error: "could not run \(argv[0]): not found on PATH")
            }
            let command = TaskReaper.command(path: program, argv: argv)
            executable = .path(FilePath(command.executable))
            arguments = command.arguments
        }
        var variables: [Environment.Key: String?] = [:]
        // Warren's own settings (broker URL with its password, API token, store address) stay
        // with the worker; a task gets what its catalog entry sets.
        for name in ProcessInfo.processInfo.environment.keys where name.hasPrefix("WARREN_") {
            if let key = Environment.Key(rawValue: name) { variables.updateValue(nil, forKey: key) }
        }
        // The W3C convention for a process (as OpenTelemetry's SDKs read it); the catalog entry's
        // own setting wins.
        if let traceparent { variables["TRACEPARENT"] = traceparent }
        for (name, value) in specification.environment {
            if let key = Environment.Key(rawValue: name) { variables[key] = value }
        }
        let limit = definition.maxOutput
        do {
            let execution = try await Subprocess.run(
                executable,
                arguments: Arguments(arguments),
                environment: .inherit.updating(variables),
                workingDirectory: specification.workingDirectory.map { FilePath($0) },
                platformOptions: options,
                input: .none,
                output: .sequence,
                error: .combinedWithOutput
            ) { execution in
                var tail = OutputTail(limit: limit)
                for try await chunk in execution.standardOutput {
                    chunk.withUnsafeBytes { tail.append($0) }
                }
                return tail.text()
            }
            let output = execution.closureResult
            if Task.isCancelled { return TaskOutcome(status: .interrupted, output: output) }
            switch execution.terminationStatus {
            case .exited(0):
                return TaskOutcome(status: .succeeded, exitCode: 0, output: output)
            case .exited(let code):
                return TaskOutcome(status: .failed, exitCode: code, output: output, error: "exited with status \(code)")
            case .signaled(let signal):
                return TaskOutcome(status: .failed, output: output, error: "killed by signal \(signal)")
            }
        } catch {
            if Task.isCancelled { return TaskOutcome(status: .interrupted) }
            return TaskOutcome(status: .failed, error: "could not run \(argv[0]): \(error)")
        }
    }
}
