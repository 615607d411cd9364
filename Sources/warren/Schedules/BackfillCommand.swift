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
            task already has a final succeeded result in the store (when --store or WARREN_STORE is \
            given), and instants an earlier backfill published (recorded in warren.schedules.state), \
            so the same backfill twice publishes nothing new. At most 1000 fires per command. \
            Instants without a UTC offset are read in the schedule's time zone. Prints the task ids \
            published (with --dry-run, the instants), then a summary on stderr.
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
        let consultStore = storeOptions.store != nil || ProcessInfo.processInfo.environment["WARREN_STORE"] != nil
        if consultStore { _ = try storeOptions.address() }
        let runtime = try await RuntimeSchedules.open(broker, queueOptions: options, command: "backfill")
        let schedule = try await runtime.schedule(name)
        let start = try instant(from, option: "--from", in: schedule.zone)
        let end = try instant(to, option: "--to", in: schedule.zone)
        var instants = BackfillPlan.instants(of: schedule, from: start, to: end)
        if instants.count > BackfillPlan.limit { instants = [] }  // refused by the plan below
        let succeeded = try await succeededIDs(of: schedule, instants: instants, consult: consultStore && !rerun, runtime: runtime)
        let plan: BackfillPlan = try await runtime.run {
            let backfilled = rerun ? [] : try await runtime.client.backfilledIDs(of: schedule.name)
            let plan: BackfillPlan
            do {
                plan = try BackfillPlan.plan(schedule, from: start, to: end, succeededIDs: succeeded, backfilledIDs: backfilled, rerun: rerun)
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
        if !plan.backfilledBefore.isEmpty { summary += ", \(plan.backfilledBefore.count) left out (backfilled before; --rerun publishes them again)" }
        if !consultStore, !rerun { summary += "; no --store given, so fires that already ran were not looked up" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }

    private func instant(_ text: String, option: String, in zone: ZoneRules) throws -> Int64 {
        do {
            return try Timestamp.parse(text, in: zone)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// The task ids among `instants`' fires whose latest stored state is `succeeded`.
    private func succeededIDs(of schedule: ScheduleDefinition, instants: [Int64], consult: Bool,
                              runtime: RuntimeSchedules) async throws -> Set<String> {
        guard consult, !instants.isEmpty else { return [] }
        let store: any ResultStore
        do {
            store = try await storeOptions.openForReading(command: "schedules backfill")
        } catch {
            await runtime.connection.close()
            throw error
        }
        var ids = Set<String>()
        do {
            for instant in instants {
                let id = ScheduleDefinition.fireTaskID(schedule: schedule.name, scheduledFor: instant)
                if try await store.latest(of: id)?.status == .succeeded { ids.insert(id) }
            }
        } catch {
            await store.close()
            await runtime.connection.close()
            FileHandle.standardError.write(Data("warren schedules backfill: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await store.close()
        return ids
    }
}
