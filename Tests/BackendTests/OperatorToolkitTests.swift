import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// The operator's everyday commands with the real binaries, a real broker and store: dead
/// letters (`warren dead`, `/api/dead-letters`), `warren queue peek`, `warren status` over every
/// queue, `warren workers`, and a catalog task's own queue.
@Suite("operator's toolkit: dead letters, queue peek, status, workers, task queues (real binaries)")
struct OperatorToolkitTests {
    /// Each line of `text` as JSON.
    static func jsonLines(_ text: String) -> [JSONValue] {
        text.split(separator: "\n").compactMap { try? JSONText.parse(Array($0.utf8)) }
    }

    static func deadLetters(_ harness: BackendHarness, _ extra: [String] = []) async throws -> [JSONValue] {
        let listed = try await harness.warren(["dead", "list", "--json"] + extra)
        #expect(listed.status == 0, "\(listed.stderr)")
        return jsonLines(listed.stdout)
    }

    /// A catalog file in a temporary directory.
    static func catalogFile(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-catalog-\(UUID().uuidString.prefix(8)).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func stop(_ processes: [WarrenProcess]) async {
        for process in processes { process.signal(SIGTERM) }
        for process in processes { _ = try? await process.wait() }
    }

    @Test("dead letters: listed without being taken, shown, requeued as the next attempt with fresh retries and trigger requeue, purged only when confirmed")
    func deadLetters() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("warren-dl-\(UUID().uuidString.prefix(8))").path
        let catalog = try Self.catalogFile("""
            tasks:
              flaky:
                run: ["/bin/sh", "-c", "test -e \(marker)"]
                retry: {attempts: 2, backoff: 100ms, jitter: false}
            """)
        let backend = try harness.startBackend()
        let worker = try WarrenProcess(["worker", "--queue", "dl", "--tasks", catalog, "--log-level", "warning"], environment: harness.environment)
        do {
            let failing = "dl-failing-\(UUID().uuidString.prefix(8))", unknown = "dl-unknown-\(UUID().uuidString.prefix(8))"
            #expect(try await harness.warren(["publish", "flaky", "--queue", "dl", "--id", failing, "--arg", "day=monday"]).status == 0)
            #expect(try await harness.warren(["publish", "nope", "--queue", "dl", "--id", unknown]).status == 0)
            try await waitUntil("both dead-lettered") { try await Self.deadLetters(harness).count == 2 }
            let entries = try await Self.deadLetters(harness)
            let failed = try #require(entries.first { $0["id"] == .string(failing) })
            #expect(failed["reason"] == .string("failed"))
            #expect(failed["task"] == .string("flaky"))
            #expect(failed["attempt"] == .integer(2), "the last of its 2 attempts")
            #expect(failed["queue"] == .string("dl"))
            #expect(failed["args"] == .object(["day": .string("monday")]))
            let unknownEntry = try #require(entries.first { $0["id"] == .string(unknown) })
            #expect(unknownEntry["reason"] == .string("unknown-task"))
            #expect(unknownEntry["attempt"] == .integer(1))
            // Reading took nothing away.
            #expect(try await harness.vhost.depth(of: WireNames.deadLetterQueue)! == (2, 0))
            let reasonFiltered = try await Self.deadLetters(harness, ["--reason", "unknown-task"])
            #expect(reasonFiltered.map { $0["id"] } == [.string(unknown)])
            let table = try await harness.warren(["dead", "list"])
            #expect(table.stdout.contains("unknown-task") && table.stdout.contains(unknown) && table.stdout.contains(failing))
            let shown = try await harness.warren(["dead", "show", failing])
            #expect(shown.status == 0)
            #expect(shown.stdout.contains("reason     failed\n") && shown.stdout.contains("queue      dl\n")
                    && shown.stdout.contains("args       {\"day\":\"monday\"}\n"), "\(shown.stdout)")

            // Requeued while it still fails: attempts 3 and 4 (its retries afresh), then dead again.
            let requeued = try await harness.warren(["dead", "requeue", failing])
            #expect(requeued.status == 0, "\(requeued.stderr)")
            #expect(requeued.stdout == "requeued \(failing) (flaky) to dl\n")
            try await waitUntil("dead-lettered again after two more attempts") {
                try await Self.deadLetters(harness).contains { $0["id"] == .string(failing) && $0["attempt"] == .integer(4) }
            }
            // Fixed, requeued: attempt 5 succeeds, recorded as a requeue after the earlier runs.
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: marker) }
            #expect(try await harness.warren(["dead", "requeue", "--all", "--reason", "failed"]).status == 0)
            try await waitUntil("attempt 5 stored as succeeded") {
                let shown = try await harness.warren(["results", "show", failing, "--json"])
                return Self.jsonLines(shown.stdout).contains { $0["attempt"] == .integer(5) && $0["status"] == .string("succeeded") }
            }
            let attempts = Self.jsonLines(try await harness.warren(["results", "show", failing, "--json"]).stdout)
            #expect(attempts.compactMap { if case .integer(let a)? = $0["attempt"] { Int(a) } else { nil } } == [1, 2, 3, 4, 5])
            #expect(attempts.filter { $0["trigger"] == .string("requeue") }.count == 3, "attempts 3, 4 and 5 came from requeues")
            let latest = try await harness.warren(["results", "list", "--task", "flaky", "--json"])
            #expect(Self.jsonLines(latest.stdout).first?["status"] == .string("succeeded"), "the requeued run is the task's latest state")
            #expect(try await Self.deadLetters(harness).map { $0["id"] } == [.string(unknown)])

            // An unknown id, and a purge without a terminal and without --yes, change nothing.
            let missing = try await harness.warren(["dead", "requeue", "no-such-id"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no dead letter with id no-such-id"))
            let unconfirmed = try await harness.warren(["dead", "purge"])
            #expect(unconfirmed.status == 2)
            #expect(unconfirmed.stderr.contains("give --yes"), "\(unconfirmed.stderr)")
            #expect(try await harness.vhost.depth(of: WireNames.deadLetterQueue)! == (1, 0))
            let purged = try await harness.warren(["dead", "purge", "--yes"])
            #expect(purged.stdout == "purged 1 dead letter\n", "\(purged.stderr)")
            #expect(try await harness.vhost.depth(of: WireNames.deadLetterQueue)! == (0, 0))
        } catch {
            await Self.stop([worker, backend])
            await harness.close()
            throw error
        }
        await Self.stop([worker, backend])
        await harness.close()
    }

    @Test("the dead-letter API: admin token only; list, show, requeue and purge as the CLI")
    func deadLetterAPI() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let (backend, base) = try await HTTPAPITests.start(harness, ["--api-token", "admin-t", "--api-read-token", "read-t"])
        let admin = ["Authorization": "Bearer admin-t", "Content-Type": "application/json"]
        do {
            // Two unknown tasks, dead-lettered by a worker that does not know them.
            let worker = try WarrenProcess(["worker", "--queue", "dlapi", "--log-level", "warning"], environment: harness.environment)
            defer { worker.signal(SIGTERM) }
            for id in ["api-a", "api-b"] {
                let published = try await harness.warren(["publish", "missing.task", "--queue", "dlapi", "--id", id])
                #expect(published.status == 0, "\(published.stderr)")
            }
            try await waitUntil("both dead-lettered") { try await Self.deadLetters(harness).count == 2 }
            #expect(try await HTTPAPITests.request("GET", base + "/api/dead-letters").status == 401)
            #expect(try await HTTPAPITests.request("GET", base + "/api/dead-letters", headers: ["Authorization": "Bearer read-t"]).status == 403,
                    "dead letters carry args: admin only, reads included")
            let list = try await HTTPAPITests.request("GET", base + "/api/dead-letters?reason=unknown-task", headers: admin)
            #expect(list.status == 200)
            #expect(list.json["count"] == .integer(2))
            let document = try OpenAPIDocument.load()
            #expect(document.problems("get", "/api/dead-letters", status: 200, body: list.json) == [])
            let one = try await HTTPAPITests.request("GET", base + "/api/dead-letters/api-a", headers: admin)
            #expect(one.status == 200)
            #expect(document.problems("get", "/api/dead-letters/{id}", status: 200, body: one.json) == [])
            #expect(try await HTTPAPITests.request("GET", base + "/api/dead-letters/nothing", headers: admin).status == 404)
            let bad = try await HTTPAPITests.request("POST", base + "/api/dead-letters/requeue", body: "{}", headers: admin)
            #expect(bad.status == 400)
            #expect(bad.json["error"] == .string("give ids (a non-empty array) or \"all\": true"))
            // Requeued to dlapi, where the worker dead-letters them again as attempt 2.
            let requeue = try await HTTPAPITests.request("POST", base + "/api/dead-letters/requeue", body: #"{"ids": ["api-a", "nothing"]}"#, headers: admin)
            #expect(requeue.status == 200, "\(requeue.text)")
            #expect(document.problems("post", "/api/dead-letters/requeue", status: 200, body: requeue.json) == [])
            #expect(requeue.json["requeued"] == .array([.object(["id": .string("api-a"), "queue": .string("dlapi")])]))
            #expect(requeue.json["not_found"] == .array([.string("nothing")]))
            try await waitUntil("api-a dead again as attempt 2") {
                try await Self.deadLetters(harness).contains { $0["id"] == .string("api-a") && $0["attempt"] == .integer(2) }
            }
            try await waitUntil("the requeue logged with who") { backend.output.contains("dead letters requeued from the HTTP API") && backend.output.contains("by=api:admin-token") }
            let purge = try await HTTPAPITests.request("POST", base + "/api/dead-letters/purge", body: #"{"all": true}"#, headers: admin)
            #expect(purge.json == .object(["purged": .integer(2)]))
            #expect(try await harness.vhost.depth(of: WireNames.deadLetterQueue)! == (0, 0))
        } catch {
            await Self.stop([backend])
            await harness.close()
            throw error
        }
        await Self.stop([backend])
        await harness.close()
    }

    @Test("queue peek shows the waiting tasks oldest first without taking them; status shows every declared queue with ready, unacked and the oldest's age; workers come and go")
    func peekStatusAndWorkers() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("warren-peek-\(UUID().uuidString.prefix(8))").path
        let catalog = try Self.catalogFile("""
            tasks:
              hold:
                run: ["/bin/sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.05; done"]
            """)
        defer { try? FileManager.default.removeItem(atPath: gate) }
        var processes: [WarrenProcess] = []
        do {
            // Five tasks wait in a queue no worker consumes yet (a publisher declared it).
            var ids: [String] = []
            for index in 0..<5 {
                let id = "peek-\(index)"
                #expect(try await harness.warren(["publish", "hold", "--queue", "peeked", "--id", id]).status == 0)
                ids.append(id)
            }
            let peeked = try await harness.warren(["queue", "peek", "peeked", "--limit", "3", "--json"])
            #expect(peeked.status == 0, "\(peeked.stderr)")
            let object = try #require(try? JSONText.parse(Array(peeked.stdout.utf8)))
            #expect(object["ready"] == .integer(5))
            guard case .array(let tasks)? = object["tasks"] else { throw HarnessError.exited(peeked.stdout) }
            #expect(tasks.map { $0["id"] } == ids.prefix(3).map { .string($0) }, "oldest first")
            #expect(tasks.allSatisfy { $0["task"] == .string("hold") && $0["attempt"] == .integer(1) })
            #expect(try await harness.vhost.depth(of: "peeked")! == (5, 0), "nothing taken")
            let text = try await harness.warren(["queue", "peek", "peeked"])
            #expect(text.stdout.hasPrefix("peeked: 5 ready, 0 consumers\n"))
            #expect(try await harness.warren(["queue", "peek", "no-such-queue"]).status == 1)

            // A worker of concurrency 2 with prefetch 2 takes two and holds them; status counts
            // them unacked and the three others ready, the oldest of them aged.
            let metricsPort = TestPorts.free()
            let first = try WarrenProcess(["worker", "--name", "first", "--queue", "peeked", "--tasks", catalog, "--concurrency", "2", "--prefetch", "2",
                                           "--metrics", "127.0.0.1:\(metricsPort)", "--log-level", "warning"], environment: harness.environment)
            processes.append(first)
            try await waitUntil("two tasks held") { try await harness.vhost.depth(of: "peeked")! == (3, 2) }
            try await waitUntil("status shows the held tasks as unacked") {
                let status = try await harness.warren(["status", "--json"])
                guard let value = try? JSONText.parse(Array(status.stdout.utf8)), case .array(let queues)? = value["queues"],
                      let row = queues.first(where: { $0["name"] == .string("peeked") }) else { return false }
                return row["ready"] == .integer(3) && row["unacked"] == .integer(2) && row["consumers"] == .integer(1)
                    && { if case .number(let age)? = row["oldest_age_seconds"] { age >= 0 } else { false } }()
            }
            let table = try await harness.warren(["status"])
            #expect(table.stdout.contains("workers    1 alive"), "\(table.stdout)")
            #expect(table.stdout.range(of: #"peeked\s+3\s+2\s+1\s+\d+(ms|s|m)"#, options: .regularExpression) != nil, "\(table.stdout)")
            // A peek beside the worker sees only what the worker has no room for.
            let beside = try await harness.warren(["queue", "peek", "peeked", "--json"])
            let besideTasks = (try? JSONText.parse(Array(beside.stdout.utf8)))?["tasks"]
            #expect(besideTasks == .array([]) || { if case .array(let a)? = besideTasks { a.count == 3 } else { false } }())

            // Workers: a second one appears; killed, it is gone within three announcements.
            let second = try WarrenProcess(["worker", "--name", "second", "--queue", "other", "--log-level", "warning"], environment: harness.environment)
            processes.append(second)
            try await waitUntil("two workers listed") {
                Self.jsonLines(try await harness.warren(["workers", "--json"]).stdout).compactMap { $0["worker"] } == [.string("first"), .string("second")]
            }
            let workers = Self.jsonLines(try await harness.warren(["workers", "--json"]).stdout)
            #expect(workers.first?["running"] == .integer(2))
            #expect(workers.first?["unsettled"] == .object(["peeked": .integer(2)]))
            #expect(workers.first?["queues"] == .array([.string("peeked")]))
            guard case .array(let running)? = workers.first?["running_tasks"] else { throw HarnessError.exited("\(workers)") }
            #expect(Set(running.compactMap { $0["id"] }) == [.string("peek-0"), .string("peek-1")], "what it runs now: the two oldest")
            #expect(running.allSatisfy { $0["task"] == .string("hold") })
            // Both slots busy since the first seconds: the minute's share climbs towards 1.
            try await waitUntil("busy over half of the time") {
                if case .number(let busy)? = Self.jsonLines(try await harness.warren(["workers", "--json"]).stdout).first?["busy"] { return busy > 0.5 }
                return false
            }
            let metrics = try await HTTPAPITests.request("GET", "http://127.0.0.1:\(metricsPort)/metrics")
            #expect((prometheusSample(metrics.text, "warren_worker_busy_ratio") ?? 0) > 0.5, "\(metrics.text.prefix(300))")
            let listed = try await harness.warren(["workers"])
            #expect(listed.stdout.range(of: #"first\s+peeked\s+\d+%\s+2/2\s+2\s+0\s+\S+ ago\s+hold peek-[01]"#, options: .regularExpression) != nil,
                    "\(listed.stdout)")
            // The dashboard's workers section, in headless Chromium.
            let (dashboardBackend, base) = try await HTTPAPITests.start(harness)
            processes.append(dashboardBackend)
            let page = try await DashboardTests.chromium(base + "/")
            #expect(page.contains(#"data-worker="first""#) && (page.contains(#"href="/tasks/peek-0""#) || page.contains(#"href="/tasks/peek-1""#)) && page.contains(#"class="busy""#), "\(page.suffix(3000))")
            second.signal(SIGKILL)
            _ = try? await second.wait()
            let killedAt = ContinuousClock.now
            try await waitUntil("the killed worker gone", timeout: .seconds(30)) {
                Self.jsonLines(try await harness.warren(["workers", "--json"]).stdout).compactMap { $0["worker"] } == [.string("first")]
            }
            #expect(ContinuousClock.now - killedAt <= .seconds(20), "three missed 5 s announcements, plus the reading")
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            try await waitUntil("every task done") { try await harness.vhost.depth(of: "peeked")! == (0, 0) }
            first.signal(SIGTERM)
            _ = try await first.wait()
            try await waitUntil("a gracefully stopped worker leaves at once", timeout: .seconds(10)) {
                Self.jsonLines(try await harness.warren(["workers", "--json"]).stdout).isEmpty
            }
        } catch {
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            await Self.stop(processes)
            await harness.close()
            throw error
        }
        await Self.stop(processes)
        await harness.close()
    }

    @Test("a catalog task's queue: the worker consumes it, publish and POST /api/tasks send there, a schedule without a queue fires there")
    func catalogQueue() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let catalog = try Self.catalogFile("""
            tasks:
              images.resize:
                run: ["/bin/echo", "resized"]
                queue: images
            """)
        let directory = try ScheduleOperationsTests.directory(["images.yaml": """
            schedules:
              resize-often:
                every: 1s
                task: images.resize
            """])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var processes: [WarrenProcess] = []
        do {
            let (backend, base) = try await HTTPAPITests.start(harness, ["--tasks", catalog])
            processes.append(backend)
            let worker = try WarrenProcess(["worker", "--tasks", catalog, "--log-level", "info"], environment: harness.environment)
            processes.append(worker)
            try await waitUntil("the worker consuming default and images") { worker.output.contains("queues=default,images") }
            let published = try await harness.warren(["publish", "images.resize", "--tasks", catalog, "--wait"])
            #expect(published.status == 0, "\(published.stderr)")
            let result = try #require(Self.jsonLines(published.stdout).last)
            #expect(result["queue"] == .string("images"))
            #expect(result["output"] == .string("resized\n"))
            // Without the catalog it goes to default (and the worker there does not know a queue either way).
            let plain = try await harness.warren(["publish", "images.resize", "--wait"])
            #expect(Self.jsonLines(plain.stdout).last?["queue"] == .string("default"))
            // --queue wins over the catalog.
            let explicit = try await harness.warren(["publish", "images.resize", "--tasks", catalog, "--queue", "elsewhere"])
            #expect(explicit.status == 0)
            #expect(try await harness.vhost.depth(of: "elsewhere")?.ready == 1)
            let lines = try Self.catalogFile(#"{"task": "images.resize", "id": "batch-image"}"# + "\n")
            let batch = try await harness.warren(["publish", "--batch", lines, "--tasks", catalog, "--wait"])
            #expect(batch.status == 0, "\(batch.stdout) \(batch.stderr)")
            try await waitUntil("the batch's task stored from images") {
                Self.jsonLines(try await harness.warren(["results", "show", "batch-image", "--json"]).stdout).first?["queue"] == .string("images")
            }
            let api = try await HTTPAPITests.request("POST", base + "/api/tasks", body: #"{"task": "images.resize"}"#)
            #expect(api.json["queue"] == .string("images"), "\(api.text)")
            let broken = try await harness.warren(["publish", "images.resize", "--tasks", "/nonexistent/tasks.yaml"])
            #expect(broken.status == 2)
            #expect(broken.stderr.contains("/nonexistent/tasks.yaml:1:1: cannot read the task catalog"), "\(broken.stderr)")

            let scheduler = try WarrenProcess(["scheduler", "--schedules", directory, "--tasks", catalog], environment: harness.environment)
            processes.append(scheduler)
            try await waitUntil("a fire of resize-often stored, run from images") {
                let listed = try await harness.warren(["results", "list", "--schedule", "resize-often", "--json"])
                return Self.jsonLines(listed.stdout).contains { $0["queue"] == .string("images") && $0["status"] == .string("succeeded") }
            }
            let listed = try await harness.warren(["schedules", "list", "--schedules", directory, "--tasks", catalog, "--json", "--offline"])
            #expect(listed.stdout.contains("\"queue\" : \"images\""), "\(listed.stdout)")
            let inForce = try await HTTPAPITests.request("GET", base + "/api/schedules")
            guard case .array(let rows)? = inForce.json["schedules"] else { throw HarnessError.exited(inForce.text) }
            #expect(rows.map { $0["queue"] } == [.string("images")], "the schedules in force, as the scheduler published them")
        } catch {
            await Self.stop(processes)
            await harness.close()
            throw error
        }
        await Self.stop(processes)
        await harness.close()
    }
}
