import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenStore
import WarrenTestSupport

/// `warren schedules pause/resume/trigger/backfill/plan` (SPEC §6) against real schedulers,
/// a worker and a backend, each test in its own virtual host.
@Suite("operating schedules at runtime (real binaries, real broker)")
struct ScheduleOperationsTests {
    /// A schedule directory of the test's own.
    static func directory(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-ops-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        return path
    }

    /// The stored results of `schedule`, newest first.
    static func stored(_ harness: BackendHarness, schedule: String) async throws -> [TaskResult] {
        try await harness.store.list(ResultQuery(schedule: schedule, limit: 1000))
    }

    static func scheduledFor(_ result: TaskResult) -> Date { TaskResult.parseTimestamp(result.scheduledFor ?? "") ?? .distantPast }

    static func stop(_ processes: [WarrenProcess]) async {
        for process in processes where process.isRunning {
            process.signal(SIGKILL)
            _ = try? await process.wait(timeout: .seconds(10))
        }
    }

    @Test("pause stops fires within 1 s, each skipped fire is stored; the pause survives killing the active scheduler; resume does not catch up")
    func pauseSurvivesFailoverAndResumeDoesNotCatchUp() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let schedules = try Self.directory(["ops.yaml": """
            schedules:
              tick:
                every: 1s
                task: warren.echo
                queue: ops
            """])
        let backend = try harness.startBackend()
        let worker = try WarrenProcess(["worker", "--queue", "ops", "--log-level", "warning"], environment: harness.environment)
        let schedulers = try ["a", "b"].map { instance in
            try WarrenProcess(["scheduler", "--schedules", schedules, "--instance", instance, "--standby-retry", "250ms"],
                              environment: harness.environment)
        }
        func active() -> WarrenProcess? { schedulers.first { $0.isRunning && $0.output.contains("active scheduler") } }
        do {
            try await waitUntil("two runs of tick stored", async: {
                try await Self.stored(harness, schedule: "tick").filter { $0.status == .succeeded }.count >= 2
            })
            let unknown = try await harness.warren(["schedules", "pause", "tik"])
            #expect(unknown.status == 2)
            #expect(unknown.stderr == "warren: NAME: no schedule named \"tik\" is loaded by the scheduler (did you mean \"tick\"?)\n")

            let paused = try await harness.warren(["schedules", "pause", "tick", "--reason", "drill"])
            let pausedAt = Date()
            #expect(paused.status == 0)
            #expect(paused.stdout == "tick: paused until resumed\n")
            let again = try await harness.warren(["schedules", "pause", "tick", "--reason", "drill"])
            #expect(again.stdout == "tick: already paused until resumed; nothing changed\n", "the same command twice is one change")

            try await waitUntil("three skipped fires stored", async: {
                try await Self.stored(harness, schedule: "tick").filter { $0.status == .skipped }.count >= 3
            })
            let list = try await harness.warren(["schedules", "list", "--schedules", schedules])
            #expect(list.stdout.contains("tick  @every 1s   UTC"))
            #expect(list.stdout.contains("yes, until resumed: drill (by cli:"))
            // With the store (WARREN_STORE here), the last fire and its status: a skipped one by now.
            #expect(list.stdout.hasPrefix("NAME  EXPRESSION  ZONE  NEXT FIRE"))
            #expect(list.stdout.contains("LAST FIRE"))
            #expect(list.stdout.contains(" skipped "), "\(list.stdout)")

            // The active scheduler dies; the standby takes over and keeps the schedule paused.
            let first = try #require(active())
            first.signal(SIGKILL)
            _ = try await first.wait()
            try await waitUntil("the standby to become active") { active() != nil }
            let takeover = Date()
            try await waitUntil("skipped fires after the takeover", async: {
                try await Self.stored(harness, schedule: "tick").contains { $0.status == .skipped && Self.scheduledFor($0) > takeover + 1 }
            })

            let resumed = try await harness.warren(["schedules", "resume", "tick"])
            let resumedAt = Date()
            #expect(resumed.stdout == "tick: resumed\n")
            try await waitUntil("a run after the resume", async: {
                try await Self.stored(harness, schedule: "tick").contains { $0.status == .succeeded && Self.scheduledFor($0) > resumedAt }
            })

            let results = try await Self.stored(harness, schedule: "tick")
            let during = results.filter { Self.scheduledFor($0) >= pausedAt + 1 && Self.scheduledFor($0) < resumedAt - 1 }
            #expect(during.count >= 3)
            #expect(during.allSatisfy { $0.status == .skipped }, "no fire due 1 s after the pause ran, none was caught up after the resume: \(during.filter { $0.status != .skipped }.map(\.id))")
            #expect(during.allSatisfy { $0.error == "paused: drill" })
            let stats = try await harness.warren(["results", "stats", "--json"])
            #expect(stats.status == 0)
        } catch {
            await Self.stop(schedulers + [worker, backend])
            await harness.close()
            throw error
        }
        await Self.stop(schedulers + [worker, backend])
        await harness.close()
        try? FileManager.default.removeItem(atPath: schedules)
    }

    @Test("trigger runs once, attributed to the schedule; backfill across a DST change publishes what schedules next lists, skips what succeeded, and twice publishes nothing new; plan shows each change")
    func triggerBackfillPlan() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let file = """
            schedules:
              nightly:
                cron: "30 2 * * *"
                timezone: Europe/Berlin
                task: warren.echo
                queue: ops
                args: {"report": "daily"}
              hourly:
                every: 1h
                task: warren.echo
                queue: ops
            """
        let schedules = try Self.directory(["ops.yaml": file])
        let backend = try harness.startBackend()
        let scheduler = try WarrenProcess(["scheduler", "--schedules", schedules], environment: harness.environment)
        var processes = [backend, scheduler]
        do {
            try await waitUntil("the scheduler to publish its schedules") { scheduler.output.contains("schedules in force published") }

            // Trigger with no worker yet: the message carries the manual trigger and the schedule.
            let triggered = try await harness.warren(["schedules", "trigger", "nightly", "--id", "nightly-now"])
            #expect(triggered.status == 0)
            #expect(triggered.stdout == "nightly-now\n")
            let channel = try await harness.connection.openChannel(confirms: false)
            let consumer = try await channel.consume(queue: "ops")
            var triggeredMessage: TaskMessage?
            for await delivery in consumer {
                let message = try TaskMessage(delivery: delivery, queue: "ops", maxPayload: 1 << 20)
                try delivery.nack(requeue: true)  // an hourly fire may come first; every task stays for the worker
                if message.id == "nightly-now" {
                    triggeredMessage = message
                    break
                }
            }
            try await channel.close()
            let message = try #require(triggeredMessage)
            #expect(message.trigger == "manual" && message.schedule == "nightly")
            #expect(message.args == .object(["report": .string("daily")]))

            let worker = try WarrenProcess(["worker", "--queue", "ops", "--log-level", "warning"], environment: harness.environment)
            processes.append(worker)
            try await waitUntil("the triggered run stored", async: { try await harness.store.latest(of: "nightly-now")?.status == .succeeded })
            let listed = try await harness.warren(["results", "list", "--schedule", "nightly"])
            #expect(listed.stdout.contains("nightly-now"))
            #expect(try await harness.store.attempts(of: "nightly-now").count == 1, "runs once")

            // Backfill 5 nights across the spring-forward change in Berlin (2026-03-29).
            let next = try await harness.warren(["schedules", "next", "nightly", "--schedules", schedules,
                                                 "--from", "2026-03-26T23:59:59", "--count", "5"])
            let range = ["--from", "2026-03-27T00:00:00", "--to", "2026-04-01T00:00:00"]
            let dryRun = try await harness.warren(["schedules", "backfill", "nightly", "--dry-run"] + range)
            #expect(dryRun.status == 0)
            #expect(dryRun.stdout == next.stdout)
            #expect(dryRun.stdout.contains("2026-03-29T03:00:00+02:00"), "02:30 does not exist that night")

            var done = TaskResult(id: "nightly@2026-03-28T01:30:00Z", task: "warren.echo", queue: "ops", attempt: 1, status: .succeeded)
            done.schedule = "nightly"
            try await harness.publish([done])
            try await waitUntil("the earlier success stored", async: { try await harness.store.latest(of: done.id) != nil })

            let backfilled = try await harness.warren(["schedules", "backfill", "nightly"] + range)
            #expect(backfilled.status == 0)
            #expect(backfilled.stdout == """
                nightly@2026-03-27T01:30:00Z
                nightly@2026-03-29T01:00:00Z
                nightly@2026-03-30T00:30:00Z
                nightly@2026-03-31T00:30:00Z

                """)
            #expect(backfilled.stderr == "nightly: 4 published, 1 left out (already succeeded)\n")
            let twice = try await harness.warren(["schedules", "backfill", "nightly"] + range)
            #expect(twice.stdout == "")
            #expect(twice.stderr.hasPrefix("nightly: 0 published"))
            let ids = backfilled.stdout.split(separator: "\n").map(String.init)
            try await waitUntil("the backfilled runs stored", async: {
                var all = true
                for id in ids where try await harness.store.latest(of: id)?.status != .succeeded { all = false }
                return all
            })
            for id in ids { #expect(try await harness.store.attempts(of: id).count == 1, "\(id) ran once") }
            let thrice = try await harness.warren(["schedules", "backfill", "nightly"] + range)
            #expect(thrice.stdout == "")
            #expect(thrice.stderr == "nightly: 0 published, 5 left out (already succeeded)\n")

            // Plan a directory with nightly changed, hourly removed and weekly added.
            let proposed = try Self.directory(["ops.yaml": """
                schedules:
                  nightly:
                    cron: "45 2 * * *"
                    timezone: Europe/Berlin
                    task: warren.echo
                    queue: reports
                    args: {"report": "daily"}
                  weekly:
                    cron: "0 6 * * 1"
                    task: warren.echo
                """])
            defer { try? FileManager.default.removeItem(atPath: proposed) }
            let plan = try await harness.warren(["schedules", "plan", proposed, "--from", "2026-03-27T00:00:00Z"])
            #expect(plan.status == 3)
            #expect(plan.stdout == """
                + weekly (added)
                    next fires after:  2026-03-30T06:00:00+00:00, 2026-04-06T06:00:00+00:00, 2026-04-13T06:00:00+00:00
                - hourly (removed)
                    next fires before: 2026-03-27T01:00:00+00:00, 2026-03-27T02:00:00+00:00, 2026-03-27T03:00:00+00:00
                ~ nightly (changed)
                    when: 30 2 * * * -> 45 2 * * *
                    queue: ops -> reports
                    next fires before: 2026-03-27T02:30:00+01:00, 2026-03-28T02:30:00+01:00, 2026-03-29T03:00:00+02:00
                    next fires after:  2026-03-27T02:45:00+01:00, 2026-03-28T02:45:00+01:00, 2026-03-29T03:00:00+02:00
                1 added, 1 removed, 1 changed

                """)
            let same = try await harness.warren(["schedules", "plan", schedules])
            #expect(same.status == 0)
            #expect(same.stdout == "no changes: 2 schedules, the same as the running scheduler's\n")
        } catch {
            await Self.stop(processes)
            await harness.close()
            throw error
        }
        await Self.stop(processes)
        await harness.close()
        try? FileManager.default.removeItem(atPath: schedules)
    }
}
