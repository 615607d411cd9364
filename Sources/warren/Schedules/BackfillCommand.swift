import ArgumentParser
import Cron
import Foundation
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `warren schedules backfill NAME --from ISO --to ISO`: publishes the fires of a range again,
/// with the task ids of regular fires.
struct BackfillScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Publish every fire of a schedule in [--from, --to), in order, with the task ids of regular fires.",
        discussion: """
            Each task carries x-warren-trigger: backfill. Left out unless --rerun: instants whose \
            task's latest result in the store (--store or WARREN_STORE, required without --rerun) \
            is succeeded, and instants an earlier backfill published that have no final result yet \
            (recorded in warren.schedules.state), so the same backfill twice publishes nothing new; \
            one that failed is published again. --to may not be in the future (the scheduler \
            publishes those fires). At most 1000 fires per command. Instants without a UTC offset \
            are read in the schedule's time zone. Prints the task ids published (with --dry-run, \
            the instants), then a summary on stderr.
            """
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var queueTypeOption: QueueTypeOption
    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The schedule's name.")
    var name: String

    @Option(help: "First instant of the range (included), ISO-8601.")
    var from: String

    @Option(help: "End of the range (excluded), ISO-8601.")
    var to: String

    @Flag(name: .customLong("dry-run"), help: "Print the instants that would be published; publish nothing.")
    var dryRun = false

    @Flag(help: "Publish every instant of the range, also those that succeeded or were backfilled before.")
    var rerun = false

    func run() async throws {
        let options = TaskQueueOptions(type: try queueTypeOption.resolve())
        let consultStore = !rerun
        if consultStore {
            guard storeOptions.store != nil || ProcessInfo.processInfo.environment["WARREN_STORE"] != nil else {
                throw ValidationError("--store: backfill needs the result store (--store or WARREN_STORE) to leave out fires that already succeeded; --rerun publishes every instant")
            }
            _ = try storeOptions.address()
        }
        let runtime = try await RuntimeSchedules.open(broker, queueOptions: options, command: "backfill")
        let schedule = try await runtime.schedule(name)
        let start = try instant(from, option: "--from", in: schedule.zone)
        let end = try instant(to, option: "--to", in: schedule.zone)
        var instants = BackfillPlan.instants(of: schedule, from: start, to: end)
        if instants.count > BackfillPlan.limit { instants = [] }  // refused by the plan below
        let stored = try await storedStatuses(of: schedule, instants: instants, consult: consultStore, runtime: runtime)
        let plan: BackfillPlan = try await runtime.run {
            let backfilled = rerun ? [] : try await runtime.client.backfilledIDs(of: schedule.name)
            let plan: BackfillPlan
            do {
                plan = try BackfillPlan.plan(schedule, from: start, to: end, now: Int64(Date().timeIntervalSince1970), stored: stored,
                                             backfilledIDs: backfilled, rerun: rerun)
            } catch {
                throw ValidationError("--from/--to: \(error)")
            }
            if !dryRun { try await runtime.client.backfill(schedule, instants: plan.publish) }
            return plan
        }
        for instant in plan.publish {
            print(dryRun ? Timestamp.format(instant, in: schedule.zone) : ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: instant))
        }
        var summary = "\(schedule.name): \(plan.publish.count) \(dryRun ? "to publish" : "published")"
        if !plan.succeeded.isEmpty { summary += ", \(plan.succeeded.count) left out (already succeeded)" }
        if !plan.backfilledBefore.isEmpty { summary += ", \(plan.backfilledBefore.count) left out (backfilled before, no final result yet)" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }

    private func instant(_ text: String, option: String, in zone: ZoneRules) throws -> Int64 {
        do {
            return try Timestamp.parse(text, in: zone)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// The latest stored status of each of `instants`' fires that has one.
    private func storedStatuses(of schedule: ScheduleDefinition, instants: [Int64], consult: Bool,
                                runtime: RuntimeSchedules) async throws -> [String: ResultStatus] {
        guard consult, !instants.isEmpty else { return [:] }
        let store: any ResultStore
        do {
            store = try await storeOptions.openForReading(command: "schedules backfill")
        } catch {
            await runtime.connection.close()
            throw error
        }
        var statuses: [String: ResultStatus] = [:]
        do {
            for instant in instants {
                let id = ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: instant)
                if let status = try await store.latest(of: id)?.status { statuses[id] = status }
            }
        } catch {
            await store.close()
            await runtime.connection.close()
            FileHandle.standardError.write(Data("warren schedules backfill: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await store.close()
        return statuses
    }
}
