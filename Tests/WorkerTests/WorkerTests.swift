import Foundation
import RabbitMQ
import Testing
import WarrenTestSupport
import WarrenCore

/// `warren worker`, the real binary against the real broker.
@Suite("warren worker (real binary, real broker)")
struct WorkerTests {
    /// A catalog file in a temporary directory.
    func catalog(_ yaml: String) throws -> String { try catalogFile(yaml) }

    @Test("warren.echo succeeds and its result is its args; the delivery is acked")
    func echo() async throws {
        let harness = try await WorkerHarness.make(queue: "echo")
        let worker = try harness.startWorker()
        let id = try await harness.publish("warren.echo", args: .object(["greeting": .string("hello")]))
        let result = try await harness.finalResult(id)
        #expect(result.status == .succeeded)
        #expect(result.task == "warren.echo")
        #expect(result.attempt == 1)
        #expect(result.result == .object(["greeting": .string("hello")]))
        #expect(result.worker?.hasSuffix(":\(worker.pid)") == true)
        #expect(result.startedAt != nil && result.finishedAt != nil && result.durationMs != nil)
        try await waitUntil("the queue to be empty and acked") {
            try await TestCounts.queue(harness.queue, "messages") == 0
        }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("--max-tasks 3: three tasks run, the worker exits 0 on its own, the rest stay queued")
    func maxTasks() async throws {
        let harness = try await WorkerHarness.make(queue: "max-tasks")
        var ids: [String] = []
        for index in 0..<5 { ids.append(try await harness.publish("warren.echo", args: .object(["n": .integer(Int64(index))]))) }
        let worker = try harness.startWorker(["--max-tasks", "3", "--prefetch", "1", "--concurrency", "1"])
        let exit = try await worker.wait()
        #expect(exit.status == 0, "\(exit.output)")
        #expect(!exit.output.contains("warren worker:"), "\(exit.output)")
        for id in ids.prefix(3) { #expect(try await harness.finalResult(id).status == .succeeded) }
        try await waitUntil("the other two back in the queue") { try await TestCounts.queue(harness.queue, "messages") == 2 }
        await harness.close()
    }

    @Test("malformed, unknown and oversized messages are dead-lettered with reasons while the worker keeps going")
    func rejects() async throws {
        let harness = try await WorkerHarness.make(queue: "rejects")
        let worker = try harness.startWorker(["--max-payload", "1KiB"])
        try await harness.publishRaw(Data("not json".utf8), properties: BasicProperties(deliveryMode: 2, messageID: "malformed-1"))
        let unknown = try await harness.publish("no.such.task")
        let big = try await harness.publish("warren.echo", args: .object(["blob": .string(String(repeating: "x", count: 2048))]))
        let after = try await harness.publish("warren.echo")
        #expect(try await harness.finalResult(after).status == .succeeded)
        let malformed = try await harness.finalResult("malformed-1")
        #expect(malformed.status == .rejected)
        #expect(malformed.error?.contains("not a JSON object") == true)
        let unknownResult = try await harness.finalResult(unknown)
        #expect(unknownResult.status == .rejected)
        #expect(unknownResult.error == "unknown task \"no.such.task\": not in this worker's catalog")
        let bigResult = try await harness.finalResult(big)
        #expect(bigResult.status == .rejected)
        #expect(bigResult.error?.contains("over the 1024-byte limit") == true)
        try await waitUntil("three dead letters") { harness.deadLetters.count == 3 }
        let reasons = Set(harness.deadLetters.compactMap { $0.headers[WireHeaders.deadLetterReason]?.stringValue })
        #expect(reasons == ["malformed", "unknown-task", "too-large"])
        #expect(harness.deadLetters.contains { String(decoding: $0.body, as: UTF8.self) == "not json" })
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("run tasks: placeholders as single argv elements, env, output kept, non-zero exit fails")
    func runTasks() async throws {
        let path = try catalog("""
            tasks:
              greet:
                run: ["/bin/echo", "hello", "{name}"]
              show-env:
                run: ["/usr/bin/env"]
                env: { WARREN_TEST_VALUE: from-catalog }
              exit-three:
                run: ["/bin/sh", "-c", "echo failing; exit 3"]
            """)
        let harness = try await WorkerHarness.make(queue: "run")
        let worker = try harness.startWorker(["--tasks", path])
        let greet = try await harness.publish("greet", args: .object(["name": .string("a b; rm -rf /")]))
        let env = try await harness.publish("show-env")
        let failing = try await harness.publish("exit-three")
        let missing = try await harness.publish("greet", args: .object([:]))
        let greeting = try await harness.finalResult(greet)
        #expect(greeting.status == .succeeded)
        #expect(greeting.exitCode == 0)
        #expect(greeting.output == "hello a b; rm -rf /\n")
        #expect(try await harness.finalResult(env).output?.contains("WARREN_TEST_VALUE=from-catalog") == true)
        let failed = try await harness.finalResult(failing)
        #expect(failed.status == .failed)
        #expect(failed.exitCode == 3)
        #expect(failed.output == "failing\n")
        #expect(failed.error == "exited with status 3")
        let rejected = try await harness.finalResult(missing)
        #expect(rejected.status == .rejected)
        #expect(rejected.error == "argument \"name\" is missing")
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("a task over its timeout is stopped, process group and all, and recorded timed_out")
    func timeout() async throws {
        let path = try catalog("""
            tasks:
              hang:
                run: ["/bin/sh", "-c", "sleep 60 & sleep 60"]
                timeout: 1s
                kill_after: 1s
            """)
        let harness = try await WorkerHarness.make(queue: "timeout")
        let worker = try harness.startWorker(["--tasks", path])
        let id = try await harness.publish("hang")
        let result = try await harness.finalResult(id, timeout: .seconds(20))
        #expect(result.status == .timedOut)
        #expect(result.error == "timed out after 1s")
        // Its own run time (the worker's clock, not the test's, which counts the start-up too):
        // stopped after its timeout and kill grace, far from the 60 s it would have slept.
        #expect(try #require(result.durationMs) < 10_000, "ran \(result.durationMs ?? -1) ms")
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("a failed attempt is retried after its backoff, through the broker's delay chain")
    func retry() async throws {
        let path = try catalog("""
            tasks:
              flaky:
                run: ["/bin/false"]
                retry: { attempts: 2, backoff: 2s, jitter: false }
            """)
        let harness = try await WorkerHarness.make(queue: "retry")
        let worker = try harness.startWorker(["--tasks", path])
        let id = try await harness.publish("flaky")
        let final = try await harness.finalResult(id, timeout: .seconds(30))
        let attempts = harness.results(for: id)
        // Each result with its run id: a result published twice shares one, a second run has its own.
        let seen = attempts.map { "attempt \($0.attempt) \($0.status) run \($0.runID ?? "-")" }
        #expect(attempts.map(\.status) == [.retrying, .failed], "\(seen)")
        #expect(attempts.map(\.attempt) == [1, 2], "\(seen)")
        #expect(attempts[0].error == "exited with status 1; attempt 2 of 2 in 2s")
        let firstEnd = try #require(attempts[0].finishedAt.flatMap(TaskResult.parseTimestamp))
        let secondStart = try #require(final.startedAt.flatMap(TaskResult.parseTimestamp))
        let gap = secondStart.timeIntervalSince(firstEnd)
        #expect(gap >= 2.0 && gap < 3.5, "the retry started \(gap) s after the failure")
        try await waitUntil("the final failure dead-lettered") {
            harness.deadLetters.contains { $0.headers[WireHeaders.deadLetterReason]?.stringValue == "failed" }
        }
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("a delayed task waits in the broker and starts within a second of its due time")
    func delayed() async throws {
        let harness = try await WorkerHarness.make(queue: "delay")
        let worker = try harness.startWorker(["--log-level", "info"])
        // Measured from a consuming worker: its start-up (declaring the delay chain) is not the delay.
        try await waitUntil("the worker consuming") { worker.output.contains("worker started") }
        let published = Date()
        let id = try await harness.publish("warren.echo", delay: .seconds(3))
        let result = try await harness.finalResult(id, timeout: .seconds(20))
        let started = try #require(result.startedAt.flatMap(TaskResult.parseTimestamp))
        let waited = started.timeIntervalSince(published)
        #expect(waited >= 3.0 && waited < 4.0, "started \(waited) s after publishing with a 3 s delay")
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("SIGTERM: running tasks finish, nothing new starts, the rest stays queued, exit 0")
    func gracefulShutdown() async throws {
        let harness = try await WorkerHarness.make(queue: "graceful")
        // Each run appends a line to `started`, then sleeps: both are running once it has two.
        let started = FileManager.default.temporaryDirectory.appendingPathComponent("warren-graceful-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: started) }
        let catalog = try catalogFile("""
            tasks:
              sleep-a-while:
                run: ["/bin/sh", "-c", "echo run >> \(started); sleep 4"]
            """)
        let worker = try harness.startWorker(["--tasks", catalog, "--concurrency", "2", "--prefetch", "10", "--grace", "20s"])
        let running = [try await harness.publish("sleep-a-while"), try await harness.publish("sleep-a-while")]
        let waiting = try await harness.publish("warren.echo")
        try await waitUntil("both tasks to start") {
            ((try? String(contentsOfFile: started, encoding: .utf8)) ?? "").split(separator: "\n").count == 2
        }
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        #expect(exit.status == 0)
        for id in running { #expect(try await harness.finalResult(id).status == .succeeded) }
        #expect(harness.results(for: waiting).isEmpty)
        try await waitUntil("the waiting task back in the queue") { try await TestCounts.queue(harness.queue, "messages_ready") == 1 }
        await harness.close()
    }

    @Test("a worker killed with SIGKILL in the middle of 400 tasks and restarted loses none and leaves one final result per task id and attempt")
    func killedMidway() async throws {
        let harness = try await WorkerHarness.make(queue: "kill9")
        let ids = (0..<400).map { "kill9-\($0)-\(UUID().uuidString.prefix(6))" }
        let messages = ids.map { TaskMessage(id: $0, task: "warren.sleep", args: .object(["seconds": .number(0.25)]), queue: harness.queue).outgoing() }
        let confirmed = await harness.publisher.publishBatch(messages)
        #expect(confirmed.allSatisfy { if case .success = $0 { return true } else { return false } })
        let first = try harness.startWorker(["--concurrency", "8", "--prefetch", "32"])
        try await waitUntil("50 results before the kill") { Set(harness.results.map(\.id)).count >= 50 }
        first.signal(SIGKILL)
        _ = try await first.wait()
        let before = Set(harness.results.map(\.id)).count
        #expect(before < 400, "the worker should die with work left")
        let second = try harness.startWorker(["--concurrency", "8", "--prefetch", "32"])
        try await waitUntil("a final result for all 400 tasks", timeout: .seconds(60)) {
            Set(harness.results.filter { $0.status.isFinal }.map(\.id)).count == 400
        }
        let finals = harness.results.filter { $0.status.isFinal }
        #expect(finals.allSatisfy { $0.status == .succeeded })
        #expect(Set(finals.map(\.id)) == Set(ids))
        // At-least-once: a task whose result was confirmed just before the kill, but not yet
        // acked, runs again. Its repeated result is the same task and attempt, which the
        // backend stores once.
        let byID = Dictionary(grouping: finals, by: \.id)
        #expect(byID.values.allSatisfy { Set($0.map(\.attempt)) == [1] })
        let repeated = byID.values.filter { $0.count > 1 }.count
        #expect(repeated <= 32, "at most one prefetch window can be repeated, saw \(repeated)")
        try await waitUntil("the queue drained and acked") {
            try await TestCounts.queue(harness.queue, "messages") == 0
        }
        second.signal(SIGTERM)
        #expect(try await second.wait().status == 0)
        await harness.close()
    }

    @Test("a 60 s task completes on a connection with a 5 s heartbeat")
    func longTaskWithHeartbeat() async throws {
        let harness = try await WorkerHarness.make(queue: "heartbeat")
        let worker = try harness.startWorker(["--heartbeat", "5s"])
        let id = try await harness.publish("warren.sleep", args: .object(["seconds": .number(60)]))
        let result = try await harness.finalResult(id, timeout: .seconds(90))
        #expect(result.status == .succeeded)
        #expect((result.durationMs ?? 0) >= 60_000)
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        #expect(exit.status == 0)
        #expect(!exit.output.contains("reconnect"), "the connection should never have dropped: \(exit.output)")
        await harness.close()
    }

    @Test("bad worker arguments exit 2 naming the argument or the catalog line")
    func badArguments() async throws {
        let bad = try WarrenProcess(["worker", "--queue-type", "stream"])
        let result = try await bad.wait()
        #expect(result.status == 2)
        #expect(result.output == "warren: --queue-type: expected classic or quorum, got \"stream\"\n")
        let backwards = try await WarrenProcess(["worker", "--autoscale", "5,2"]).wait()
        #expect(backwards.status == 2)
        #expect(backwards.output == "warren: --autoscale: expected MIN,MAX with 1 <= MIN <= MAX, got \"5,2\"\n")
        let both = try await WarrenProcess(["worker", "--autoscale", "1,4", "--concurrency", "2"]).wait()
        #expect(both.output == "warren: give --concurrency or --autoscale, not both\n")
        let path = try catalog("tasks:\n  x:\n    run: \"/bin/true\"\n")
        let badCatalog = try WarrenProcess(["worker", "--tasks", path])
        let catalogResult = try await badCatalog.wait()
        #expect(catalogResult.status == 2)
        #expect(catalogResult.output == "warren: \(path):3:10: run: expected a non-empty list: the program, then its arguments (no shell)\n")
    }
}

/// `rabbitmqctl list_queues` figures for the main test broker.
enum TestCounts {
    static func queue(_ name: String, _ column: String) async throws -> Int? {
        for line in try await brokerCtl(["list_queues", "name", column, "--no-table-headers", "-q"]).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 2, fields[0] == name { return Int(fields[1]) }
        }
        return nil
    }
}
