import ArgumentParser
import Cron
import Foundation
import WarrenCore
import WarrenMessaging

/// `warren schedules pause NAME`: no fires until resumed (or until a time); each fire not run is
/// recorded `skipped`.
struct PauseScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause a schedule on the running scheduler: its fires are recorded as skipped until it is resumed.",
        discussion: """
            The pause is kept in the broker (stream warren.schedules.state) and takes effect on the \
            active scheduler within a second; it survives restarts and failover. With --for or \
            --until the schedule fires again on its own after that time. Pausing a schedule that \
            is already paused the same way changes nothing.
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "The schedule's name.")
    var name: String

    @Option(name: .customLong("for"), help: "Pause for this long (e.g. 2h), then fire again.")
    var duration: String?

    @Option(help: "Pause until this ISO-8601 instant, then fire again.")
    var until: String?

    @Option(help: "Why, shown by schedules list and recorded with each skipped fire.")
    var reason: String?

    func run() async throws {
        if duration != nil, until != nil { throw ValidationError("give --for or --until, not both") }
        var end: Int64?
        if let duration {
            let length = try ArgumentValues.duration(duration, option: "--for")
            guard length > .zero else { throw ValidationError("--for: must be positive") }
            end = Date().millisecondsSince1970 + Int64(length.seconds * 1000)
        }
        if let until {
            let instant = try ArgumentValues.instant(until, option: "--until")
            guard instant > Date() else { throw ValidationError("--until: \(until) is not in the future") }
            end = instant.millisecondsSince1970
        }
        if let reason, let problem = ScheduleCommand.reasonProblem(reason) { throw ValidationError("--reason: \(problem)") }
        let runtime = try await RuntimeSchedules.open(broker, command: "pause")
        let schedule = try await runtime.schedule(name)
        let change = try await runtime.run { try await runtime.client.pause(schedule.name, until: end, reason: reason) }
        let limit = end.map { " until \(Timestamp.formatUTC(milliseconds: $0))" } ?? " until resumed"
        switch change {
        case .applied: print("\(schedule.name): paused\(limit)")
        case .unchanged: print("\(schedule.name): already paused\(limit); nothing changed")
        }
    }
}

/// `warren schedules resume NAME`: fires again from its next instant; the pause is not caught up.
struct ResumeScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused schedule: it fires again from its next instant; fires during the pause are not caught up."
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "The schedule's name.")
    var name: String

    func run() async throws {
        let runtime = try await RuntimeSchedules.open(broker, command: "resume")
        // A schedule removed from the files while paused can still be resumed, so that its pause
        // does not come back if the name is used again.
        if runtime.loaded.schedule(named: name) == nil {
            let state = try await runtime.run(close: false) { try await Inspector(connection: runtime.connection).scheduleState() }
            if state.pauses[name] == nil { _ = try await runtime.schedule(name) }
        }
        switch try await runtime.run({ try await runtime.client.resume(name) }) {
        case .applied: print("\(name): resumed")
        case .unchanged: print("\(name): not paused; nothing changed")
        }
    }
}

/// `warren schedules trigger NAME`: one run now, outside the rhythm, attributed to the schedule.
struct TriggerScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger",
        abstract: "Publish one run of a schedule now, outside its rhythm (x-warren-trigger: manual).",
        discussion: """
            The task is the schedule's task, on its queue, with its args (or --args-json), and is \
            attributed to the schedule: results list --schedule NAME shows it. Its id is \
            NAME@manual-INSTANT, or --id: the same --id twice is one task. Prints the task id.
            """
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var queueTypeOption: QueueTypeOption

    @Argument(help: "The schedule's name.")
    var name: String

    @Option(name: .customLong("args-json"), help: "Args for this run instead of the schedule's, as a JSON value.")
    var argsJSON: String?

    @Option(help: "The task id (1-200 bytes); default NAME@manual-INSTANT.")
    var id: String?

    func run() async throws {
        var args: JSONValue?
        if let argsJSON {
            do {
                args = try JSONText.parse(Data(argsJSON.utf8))
            } catch {
                throw ValidationError("--args-json: not JSON: \(error)")
            }
        }
        if let id, let problem = Names.taskIDProblem(id) { throw ValidationError("--id: \(problem)") }
        let options = TaskQueueOptions(type: try queueTypeOption.resolve())
        let runtime = try await RuntimeSchedules.open(broker, queueOptions: options, command: "trigger")
        let schedule = try await runtime.schedule(name)
        let taskID = try await runtime.run { try await runtime.client.trigger(schedule, args: args, id: id) }
        print(taskID)
    }
}
