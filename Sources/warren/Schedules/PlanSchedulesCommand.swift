import ArgumentParser
import Cron
import Foundation
import WarrenCore
import WarrenMessaging

/// `warren schedules plan [DIR]`: what loading DIR would change on the running scheduler.
struct PlanSchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what loading DIR would change on the running scheduler: added, removed and changed schedules.",
        discussion: """
            Compares DIR with the schedules the active scheduler has in force (as it last \
            published them to the broker). For a changed schedule each changed field is shown as \
            old -> new; every schedule listed shows its next 3 fires before and after the change. \
            Exit 0 when nothing would change, 3 when something would, 1 when DIR has errors (a \
            rejected file would keep its last good version on the scheduler).
            """
    )

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "The schedules directory to compare.")
    var directory = "schedules"

    @Option(help: "Compute next fires after this ISO-8601 instant instead of now.")
    var from: String?

    func run() async throws {
        let proposed = try ScheduleInputs.load(directory)
        if !proposed.errors.isEmpty {
            ScheduleInputs.report(proposed.errors)
            FileHandle.standardError.write(Data("warren schedules plan: \(directory) has errors; fix them first (warren schedules validate)\n".utf8))
            throw ExitCode(1)
        }
        let runtime = try await RuntimeSchedules.open(broker, command: "plan")
        await runtime.connection.close()
        let plan = SchedulePlan(current: runtime.loaded.schedules, proposed: proposed.schedules)
        let after = try ScheduleInputs.instant(from: from, in: .utc)
        for schedule in plan.added {
            print("+ \(schedule.name) (added)")
            print("    next fires after:  \(nextFires(of: schedule, after: after))")
        }
        for schedule in plan.removed {
            print("- \(schedule.name) (removed)")
            print("    next fires before: \(nextFires(of: schedule, after: after))")
        }
        for (old, new) in plan.changed {
            print("~ \(new.name) (changed)")
            for difference in old.differences(to: new) {
                print("    \(difference.key): \(difference.old) -> \(difference.new)")
            }
            print("    next fires before: \(nextFires(of: old, after: after))")
            print("    next fires after:  \(nextFires(of: new, after: after))")
        }
        if plan.isEmpty {
            print("no changes: \(proposed.schedules.count) schedules, the same as the running scheduler's")
            return
        }
        print("\(plan.added.count) added, \(plan.removed.count) removed, \(plan.changed.count) changed")
        throw ExitCode(3)
    }

    private func nextFires(of schedule: ScheduleDefinition, after instant: Int64) -> String {
        let fires = schedule.timetable.fires(after: instant, count: 3).map { Timestamp.format($0, in: schedule.zone) }
        return fires.isEmpty ? "never" : fires.joined(separator: ", ")
    }
}

/// The difference between two sets of schedules, by name. Pure.
struct SchedulePlan {
    var added: [ScheduleDefinition] = []
    var removed: [ScheduleDefinition] = []
    var changed: [(old: ScheduleDefinition, new: ScheduleDefinition)] = []

    var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    init(current: [ScheduleDefinition], proposed: [ScheduleDefinition]) {
        let currentByName = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let proposedNames = Set(proposed.map(\.name))
        for schedule in proposed.sorted(by: { $0.name < $1.name }) {
            if let old = currentByName[schedule.name] {
                if !old.differences(to: schedule).isEmpty { changed.append((old, schedule)) }
            } else {
                added.append(schedule)
            }
        }
        removed = current.filter { !proposedNames.contains($0.name) }.sorted { $0.name < $1.name }
    }
}
