import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// SPEC §7 with the real binaries: every fire leaves a stored record (skipped by overlap and by
/// the catch-up policy, missed beyond the window), `warren schedules history` shows them, and
/// the dead-man's switch (`alert_after`, `alert_failures`) in the backend's gauges and
/// `warren schedules health`.
@Suite("every fire visible (real binaries, real broker)")
struct FireRecordsTests {
    @Test("overlap skip, catch-up skip and fires older than the window each leave a stored record with its reason and trigger; history lists them")
    func recordsOfFiresThatDidNotRun() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let schedules = try ScheduleOperationsTests.directory(["records.yaml": """
            schedules:
              single:
                every: 1s
                task: warren.echo
                queue: records-nobody
                overlap: skip
              skipper:
                every: 1s
                task: warren.echo
                queue: records
                catchup: skip
              window:
                every: 1s
                task: warren.echo
                queue: records
                catchup: latest
                catchup_window: 2s
            """])
        let backend = try harness.startBackend()
        let worker = try WarrenProcess(["worker", "--queue", "records", "--log-level", "warning"], environment: harness.environment)
        var scheduler = try WarrenProcess(["scheduler", "--schedules", schedules], environment: harness.environment)
        var processes = [backend, worker, scheduler]
        do {
            // Nobody consumes `records-nobody`: the first fire of `single` stays open, the next are skipped.
            try await waitUntil("two overlap-skipped fires of single stored", async: {
                try await ScheduleOperationsTests.stored(harness, schedule: "single").filter { $0.status == .skipped }.count >= 2
            })
            try await waitUntil("runs of skipper and window stored", async: {
                let skipper = try await ScheduleOperationsTests.stored(harness, schedule: "skipper")
                let window = try await ScheduleOperationsTests.stored(harness, schedule: "window")
                return skipper.contains { $0.status == .succeeded } && window.contains { $0.status == .succeeded }
            })
            let single = try await ScheduleOperationsTests.stored(harness, schedule: "single")
            #expect(single.allSatisfy { $0.status == .skipped }, "the first fire is never run, so nothing but skipped records")
            let overlapSkipped = single.filter { $0.status == .skipped }
            #expect(overlapSkipped.allSatisfy { $0.error?.hasPrefix("overlap: single@") == true && $0.error?.hasSuffix(" has no final result") == true },
                    "\(overlapSkipped.map { $0.error ?? "-" })")

            // The scheduler is down for 5 s (the downtime under test): skipper's fires meanwhile
            // are skipped by its policy, window's older than 2 s are missed.
            scheduler.signal(SIGKILL)
            _ = try await scheduler.wait()
            let down = Date()
            try await Task.sleep(for: .seconds(5))
            scheduler = try WarrenProcess(["scheduler", "--schedules", schedules], environment: harness.environment)
            processes.append(scheduler)
            try await waitUntil("catch-up records stored", async: {
                let skipper = try await ScheduleOperationsTests.stored(harness, schedule: "skipper")
                let window = try await ScheduleOperationsTests.stored(harness, schedule: "window")
                return skipper.filter { $0.error?.hasPrefix("catchup-skip") == true }.count >= 3 && window.contains { $0.status == .missed }
                    && window.contains { $0.status == .succeeded && $0.trigger == "catchup" }
            })
            let skipper = try await ScheduleOperationsTests.stored(harness, schedule: "skipper")
            let caught = skipper.filter { $0.error?.hasPrefix("catchup-skip") == true }
            #expect(caught.allSatisfy { $0.status == .skipped && $0.trigger == "catchup" })
            #expect(caught.allSatisfy { ScheduleOperationsTests.scheduledFor($0) > down - 2 })
            #expect(caught.first?.error?.hasPrefix("catchup-skip: catchup skip runs 0 of ") == true, "\(caught.first?.error ?? "-")")
            let window = try await ScheduleOperationsTests.stored(harness, schedule: "window")
            let missed = window.filter { $0.status == .missed }
            #expect(missed.count >= 2, "down 5 s with a 2 s window: at least two fires older than it")
            #expect(missed.allSatisfy { $0.error == "older than catchup_window 2s" && $0.trigger == "catchup" })
            #expect(window.contains { $0.status == .succeeded && $0.trigger == "catchup" }, "latest: the newest fire within the window ran as a catch-up")
            // Neither kind counts as a run. Fires go on meanwhile: the count is read before and after.
            let runsBefore = window.filter { $0.status == .succeeded }.count
            let stats = try await harness.warren(["results", "stats", "--json"])
            let runsAfter = try await ScheduleOperationsTests.stored(harness, schedule: "window").filter { $0.status == .succeeded }.count
            guard case .array(let scheduleGroups)? = try JSONText.parse(Data(stats.stdout.utf8))["schedules"] else {
                Issue.record("stats: \(stats.stdout)")
                return
            }
            let windowGroup = scheduleGroups.first { $0["name"] == .string("window") }
            if case .integer(let total)? = windowGroup?["total"] {
                #expect((runsBefore...runsAfter).contains(Int(total)), "\(total) runs, between \(runsBefore) and \(runsAfter): \(stats.stdout)")
            } else {
                Issue.record("no window group in \(stats.stdout)")
            }

            // History: one row per fire, with its trigger and reason.
            let firesBefore = try await ScheduleOperationsTests.stored(harness, schedule: "window").count
            let history = try await harness.warren(["schedules", "history", "window", "--schedules", schedules, "--json"])
            let firesAfter = try await ScheduleOperationsTests.stored(harness, schedule: "window").count
            #expect(history.status == 0, "\(history.stderr)")
            guard case .array(let entries) = try JSONText.parse(Data(history.stdout.utf8)) else {
                Issue.record("history: \(history.stdout)")
                return
            }
            #expect((firesBefore...firesAfter).contains(entries.count), "one row per stored fire: \(entries.count), between \(firesBefore) and \(firesAfter)")
            let missedEntry = try #require(entries.first { $0["status"] == .string("missed") })
            #expect(missedEntry["trigger"] == .string("catchup"))
            #expect(missedEntry["reason"] == .string("older than catchup_window 2s"))
            #expect(missedEntry["lateness_ms"] == .null, "it never started")
            let run = try #require(entries.first { $0["status"] == .string("succeeded") && $0["trigger"] == .string("schedule") })
            if case .integer(let lateness)? = run["lateness_ms"] {
                #expect((0..<5000).contains(lateness), "started − scheduled: \(lateness) ms")
            } else {
                Issue.record("no lateness in \(run)")
            }
            #expect(run["attempts"] == .integer(1))
            let times = entries.compactMap { entry -> String? in if case .string(let text)? = entry["scheduled_for"] { text } else { nil } }
            #expect(times == times.sorted(), "oldest fire first")

            let table = try await harness.warren(["schedules", "history", "window", "--schedules", schedules])
            #expect(table.stdout.hasPrefix("SCHEDULED FOR (UTC)  TRIGGER   STATUS     "), "\(table.stdout)")
            #expect(table.stdout.contains("  catchup   missed   "))
            #expect(table.stdout.contains("older than catchup_window 2s"))

            let unknown = try await harness.warren(["schedules", "history", "windw", "--schedules", schedules])
            #expect(unknown.status == 2)
            #expect(unknown.stderr == "warren: no schedule named \"windw\" in \(schedules) and none in the store (did you mean \"window\"?)\n")
        } catch {
            await ScheduleOperationsTests.stop(processes)
            await harness.close()
            throw error
        }
        await ScheduleOperationsTests.stop(processes)
        await harness.close()
        try? FileManager.default.removeItem(atPath: schedules)
    }

    @Test("alert_after: a schedule without a worker turns overdue (gauge 1, health exit 1 naming it) and back once a run succeeds; alert_failures trips after three failures in a row")
    func deadMansSwitch() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let schedules = try ScheduleOperationsTests.directory(["watched.yaml": """
            schedules:
              guarded:
                every: 2s
                task: warren.echo
                queue: guarded
                alert_after: 3s
              flaky:
                every: 1s
                task: always-fails
                queue: flaky
                alert_failures: 3
              quiet:
                every: 1h
                task: warren.echo
                queue: guarded
            """])
        let catalog = schedules + "/../" + URL(fileURLWithPath: schedules).lastPathComponent + "-tasks.yaml"
        try """
            tasks:
              always-fails:
                run: ["/bin/false"]
            """.write(toFile: catalog, atomically: true, encoding: .utf8)
        let port = TestPorts.free(), httpPort = TestPorts.free()
        let backend = try harness.startBackend(["--schedules", schedules, "--metrics", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)"])
        let scheduler = try WarrenProcess(["scheduler", "--schedules", schedules], environment: harness.environment)
        let failing = try WarrenProcess(["worker", "--queue", "flaky", "--tasks", catalog, "--log-level", "warning"], environment: harness.environment)
        var processes = [backend, scheduler, failing]
        func metrics() -> String { (try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)) ?? "" }
        do {
            try await waitUntil("guarded overdue in the gauge", timeout: .seconds(30)) {
                prometheusSample(metrics(), "warren_schedule_overdue", ["schedule=\"guarded\""]) == 1
            }
            try await waitUntil("flaky's three failures in a row in the gauge", timeout: .seconds(30)) {
                (prometheusSample(metrics(), "warren_schedule_consecutive_failures", ["schedule=\"flaky\""]) ?? 0) >= 3
            }
            let trouble = try await harness.warren(["schedules", "health", "--schedules", schedules])
            #expect(trouble.status == 1)
            #expect(trouble.stdout.hasPrefix("SCHEDULE  STATE    FAILS  LAST SUCCESS (UTC)   PROBLEM"), "\(trouble.stdout)")
            #expect(trouble.stderr.contains("warren schedules health: guarded: overdue: guarded@"), "\(trouble.stderr)")
            #expect(trouble.stderr.contains("warren schedules health: flaky: "), "\(trouble.stderr)")
            #expect(!trouble.stdout.contains("quiet"), "a schedule without alert settings is not watched")
            #expect(prometheusSample(metrics(), "warren_schedule_overdue", ["schedule=\"quiet\""]) == nil)
            #expect(backend.output.contains("schedule in trouble"))
            // The dashboard's data marks it, with the problem.
            let dashboard = try await HTTPAPITests.request("GET", "http://127.0.0.1:\(httpPort)/api/dashboard")
            guard case .array(let rows)? = dashboard.json["schedules"] else {
                Issue.record("dashboard: \(dashboard.text)")
                return
            }
            let guardedRow = rows.first { $0["name"] == .string("guarded") }
            #expect(guardedRow?["health"]?["in_trouble"] == .bool(true), "\(dashboard.text)")
            #expect(rows.first { $0["name"] == .string("quiet") }?["health"] == .null, "a schedule without alert settings has no health")

            // A worker for guarded: its queued fires run, it is healthy again; flaky stays in trouble.
            let worker = try WarrenProcess(["worker", "--queue", "guarded", "--log-level", "warning"], environment: harness.environment)
            processes.append(worker)
            try await waitUntil("guarded healthy in the gauge", timeout: .seconds(30)) {
                prometheusSample(metrics(), "warren_schedule_overdue", ["schedule=\"guarded\""]) == 0
            }
            #expect((prometheusSample(metrics(), "warren_schedule_last_success_timestamp_seconds", ["schedule=\"guarded\""]) ?? 0)
                    > Date().timeIntervalSince1970 - 60)
            #expect(prometheusSample(metrics(), "warren_schedule_last_success_timestamp_seconds", ["schedule=\"flaky\""]) == 0)
            let health = try await harness.warren(["schedules", "health", "--schedules", schedules, "--json"])
            #expect(health.status == 1)
            guard case .array(let rows) = try JSONText.parse(Data(health.stdout.utf8)) else {
                Issue.record("health: \(health.stdout)")
                return
            }
            let guarded = try #require(rows.first { $0["schedule"] == .string("guarded") })
            let flaky = try #require(rows.first { $0["schedule"] == .string("flaky") })
            #expect(guarded["in_trouble"] == .bool(false))
            #expect(flaky["failing"] == .bool(true))
            #expect(flaky["overdue"] == .bool(false), "its fires do end, in failure")
            #expect(health.stderr.contains("flaky: ") && !health.stderr.contains("guarded"), "\(health.stderr)")

            // Without the failing schedule, health passes.
            let healthy = try ScheduleOperationsTests.directory(["watched.yaml": """
                schedules:
                  guarded:
                    every: 2s
                    task: warren.echo
                    queue: guarded
                    alert_after: 3s
                """])
            let ok = try await harness.warren(["schedules", "health", "--schedules", healthy])
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
            #expect(ok.stdout.contains("guarded   ok "), "\(ok.stdout)")
            try? FileManager.default.removeItem(atPath: healthy)
        } catch {
            await ScheduleOperationsTests.stop(processes)
            await harness.close()
            throw error
        }
        await ScheduleOperationsTests.stop(processes)
        await harness.close()
        try? FileManager.default.removeItem(atPath: schedules)
        try? FileManager.default.removeItem(atPath: catalog)
    }
}
