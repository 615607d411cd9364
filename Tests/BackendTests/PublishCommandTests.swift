import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// `warren publish --wait`, `--batch`, `--at`, `--args-file` and `warren status`, as a user runs
/// them against a real broker (each test in its own virtual host).
@Suite("warren publish --wait/--batch and warren status (real binary, real broker)")
struct PublishCommandTests {
    @Test("--wait prints the id, then the final result; exit 0 on success, 1 on failure, 2 on timeout saying whether the task is still queued; a queue without a worker is warned about")
    func wait() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url]
        let worker = try WarrenProcess(["worker", "--queue", "work", "--log-level", "warning"], environment: environment)
        try await waitUntil("the worker consuming work") { try await vhost.consumers(of: "work") == 1 }
        let succeeded = try await runWarren(["publish", "warren.echo", "--queue", "work", "--arg", "x=1", "--id", "wait-ok", "--wait",
                                        "--traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], environment: environment)
        let failed = try await runWarren(["publish", "warren.fail", "--queue", "work", "--args-json", #"{"message":"nope"}"#, "--wait"], environment: environment)
        let timedOut = try await runWarren(["publish", "warren.echo", "--queue", "idle", "--id", "wait-idle", "--wait", "--timeout", "1s"], environment: environment)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        vhost.delete()
        let lines = succeeded.stdout.split(separator: "\n").map(String.init)
        #expect(succeeded.status == 0)
        #expect(lines.count == 2)
        #expect(lines.first == "wait-ok")
        let result = try TaskResult.decode(Data(lines[1].utf8))
        #expect(result.id == "wait-ok" && result.status == .succeeded && result.result == .object(["x": .string("1")]))
        #expect(result.args == .object(["x": .string("1")]), "the result says what the task was called with")
        // The result carries the run's span: in the given trace, a child of the given span.
        #expect(result.traceparent.flatMap(TraceParent.traceID(of:)) == "4bf92f3577b34da6a3ce929d0e0e4736", "the trace travels to the result")
        #expect(result.traceparent?.contains("00f067aa0ba902b7") == false, "the run has a span of its own")
        #expect(failed.status == 1)
        let failure = try TaskResult.decode(Data(failed.stdout.split(separator: "\n")[1].utf8))
        #expect(failure.status == .failed && failure.error == "nope")
        #expect(timedOut.status == 2)
        #expect(timedOut.stdout == "wait-idle\n")
        #expect(timedOut.stderr == """
            warren publish: warning: no worker consumes queue "idle"; the task waits there until one does
            warren publish: no final result for wait-idle within 1s: it is still queued (no worker consumes "idle"; 1 task ready)

            """)
        #expect(succeeded.stderr == "", "a queue with a worker: no warning")
    }

    @Test("--batch publishes every line with confirms, prints the ids and says how many; delayed lines wait in the broker")
    func batch() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString).jsonl")
        try Data("""
            {"task": "warren.echo", "queue": "batch", "args": {"n": 1}, "id": "b-1"}

            # a comment
            {"task": "warren.echo", "queue": "batch", "priority": 7, "expires": "1h"}
            {"task": "warren.sleep", "queue": "batch", "args": {"seconds": 0}, "delay": "1h"}
            {"task": "warren.echo", "queue": "other", "at": "2020-01-01T00:00:00Z"}

            """.utf8).write(to: file)
        let published = try await runWarren(["publish", "--batch", file.path], environment: environment)
        let status = try await runWarren(["status", "--json", "--queue", "batch", "--queue", "other"], environment: environment)
        vhost.delete()
        try? FileManager.default.removeItem(at: file)
        #expect(published.status == 0)
        let ids = published.stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == 4 && ids.first == "b-1" && ids.dropFirst().allSatisfy { UUID(uuidString: $0) != nil }, "\(ids)")
        #expect(published.stderr.hasPrefix("batch ") && published.stderr.contains(": 4 of 4 tasks from \(file.path) confirmed\n"), "\(published.stderr)")
        guard case .object(let object) = try JSONText.parse(Array(status.stdout.utf8)),
              case .array(let queues)? = object["queues"] else { Issue.record("status --json: \(status.stdout)"); return }
        let ready = Dictionary(uniqueKeysWithValues: queues.compactMap { queue -> (String, JSONValue)? in
            guard case .object(let fields) = queue, case .string(let name)? = fields["name"] else { return nil }
            return (name, fields["ready"] ?? .null)
        })
        #expect(ready["batch"] == .integer(2))
        #expect(ready["other"] == .integer(1))
        #expect(object["delayed"] == .integer(1))
    }

    @Test("--batch checks every line first: bad lines are named by number and nothing is published")
    func badBatch() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).jsonl")
        try Data("""
            {"task": "warren.echo", "queue": "bad-batch"}
            {"task": "warren.echo", "queue": "bad-batch", "priority": 12}
            {"task": "warren.echo", "queue": "bad-batch"}
            {"task": "warren.echo", "queue": "bad-batch", "delay": "soon"}
            [1, 2]

            """.utf8).write(to: file)
        let result = try await runWarren(["publish", "--batch", file.path], environment: environment)
        let conflicting = try await runWarren(["publish", "--batch", file.path, "--queue", "x"], environment: environment)
        let status = try await runWarren(["status", "--json", "--queue", "bad-batch"], environment: environment)
        vhost.delete()
        try? FileManager.default.removeItem(at: file)
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr == """
            warren: \(file.path):2: priority: expected 0 to 9, got 12
            warren: \(file.path):4: "delay": invalid duration "soon": expected a number at position 1
            warren: \(file.path):5: expected a JSON object such as {"task": "warren.echo"} (3 bad lines; nothing was published)

            """)
        #expect(conflicting.status == 2)
        #expect(conflicting.stderr == "warren: --queue cannot be combined with --batch (each line gives its own)\n")
        #expect(status.status == 1, "the queue was never declared: nothing was published")
        #expect(status.stdout.contains(#"{"consumers":null,"exists":false,"name":"bad-batch","oldest_age_seconds":null,"ready":null,"unacked":null}"#))
    }

    @Test("publish input errors name the option", arguments: [
        (["warren.echo", "--delay", "1m", "--at", "2030-01-01T00:00:00Z"], "warren: give --delay or --at, not both\n"),
        (["warren.echo", "--at", "tomorrow"], "warren: --at: invalid timestamp \"tomorrow\": expected 4 digits for the year (at character 1); expected e.g. 2026-03-08T03:00:00Z\n"),
        (["warren.echo", "--args-file", "/nonexistent.json"], "warren: --args-file /nonexistent.json: cannot read the file\n"),
        (["warren.echo", "--id", ""], "warren: --id: expected 1 to 200 bytes\n"),
        (["warren.echo", "--traceparent", "abc"], "warren: --traceparent \"abc\": expected 00-<32 hex>-<16 hex>-<2 hex>\n"),
        (["warren.echo", "--wait", "--timeout", "x"], "warren: --timeout: invalid duration \"x\": expected a number at position 1\n"),
        ([], "warren: give TASK, or --batch FILE\n"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        let result = try await runWarren(["publish"] + arguments, environment: ["WARREN_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"])
        #expect(result.status == 2)
        #expect(result.stderr == message)
    }

    @Test("--args-file sends the file's JSON as the task's args")
    func argsFile() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("args-\(UUID().uuidString).json")
        try Data(#"{"rows": [1, 2, 3], "name": "q4"}"#.utf8).write(to: file)
        let worker = try WarrenProcess(["worker", "--queue", "files", "--log-level", "warning"], environment: environment)
        let result = try await runWarren(["publish", "warren.echo", "--queue", "files", "--args-file", file.path, "--wait"], environment: environment)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        vhost.delete()
        try? FileManager.default.removeItem(at: file)
        #expect(result.status == 0)
        let echoed = try TaskResult.decode(Data(result.stdout.split(separator: "\n")[1].utf8))
        #expect(echoed.result == .object(["rows": .array([.integer(1), .integer(2), .integer(3)]), "name": .string("q4")]))
    }

    @Test("status: broker, scheduler, each queue's depth and consumers, dead letters, delayed; table and --json")
    func status() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url, "COLUMNS": "80"]
        let worker = try WarrenProcess(["worker", "--queue", "watched", "--log-level", "warning"], environment: environment)
        try await waitUntil("the worker consuming") { try await vhost.depth(of: "watched") != nil }
        _ = try await runWarren(["publish", "warren.echo", "--queue", "unwatched"], environment: environment)
        _ = try await runWarren(["publish", "no.such.task", "--queue", "watched", "--wait", "--timeout", "20s"], environment: environment)
        let table = try await runWarren(["status", "--queue", "watched", "--queue", "unwatched"], environment: environment)
        let json = try await runWarren(["status", "--json", "--queue", "watched", "--queue", "unwatched"], environment: environment)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        vhost.delete()
        #expect(table.status == 0)
        #expect(table.stdout.contains("scheduler  no active instance\n"))
        #expect(table.stdout.range(of: #"QUEUE\s+READY\s+UNACKED\s+CONSUMERS\s+OLDEST\n"#, options: .regularExpression) != nil, "\(table.stdout)")
        #expect(table.stdout.range(of: #"\nwatched\s+0\s+0\s+1\s+-\n"#, options: .regularExpression) != nil, "\(table.stdout)")
        #expect(table.stdout.range(of: #"\nunwatched\s+1\s+0\s+0\s+\d+(ms|s)\n"#, options: .regularExpression) != nil,
                "one task waits, with no consumer, its age shown: \(table.stdout)")
        #expect(table.stdout.contains("dead letters  1\n"))
        guard case .object(let object) = try JSONText.parse(Array(json.stdout.utf8)) else { Issue.record("status --json: \(json.stdout)"); return }
        #expect(object["broker"] == .object(["reachable": .bool(true), "endpoint": .string(vhost.url.replacingOccurrences(of: "guest:guest", with: "guest:***"))]))
        #expect(object["scheduler"] == .object(["active": .bool(false), "instance": .null, "since": .null]))
        #expect(object["dead_letters"] == .integer(1))
        #expect(object["delayed"] == .integer(0))
        guard case .array(let queues)? = object["queues"] else { Issue.record("no queues"); return }
        #expect(queues.contains(.object(["name": .string("watched"), "exists": .bool(true), "ready": .integer(0), "consumers": .integer(1),
                                         "unacked": .integer(0), "oldest_age_seconds": .null])))
        let results = queues.first { $0["name"] == .string(WireNames.resultsQueue) }
        #expect(results?["ready"] == .integer(1) && results?["consumers"] == .integer(0), "the rejected task's result waits for a backend")
        let unwatched = queues.first { $0["name"] == .string("unwatched") }
        #expect(unwatched?["ready"] == .integer(1) && unwatched?["unacked"] == .integer(0))
        if case .number(let age)? = unwatched?["oldest_age_seconds"] { #expect(age >= 0 && age < 120) } else { Issue.record("no age: \(json.stdout)") }
    }

    @Test("a Python program using pika, written from docs/protocol.md, publishes a task and finds its result; the backend stores it")
    func pika() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let worker = try WarrenProcess(["worker", "--queue", "pika", "--log-level", "warning"], environment: harness.environment)
        let backend = try harness.startBackend()
        try await waitUntil("the worker consuming") { try await harness.vhost.depth(of: "pika") != nil }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/examples/pika_roundtrip.py").standardized.path
        let python = try await runProcess("/usr/bin/python3", [script, harness.vhost.url, "pika"])
        let data = Data(python.output.utf8)
        let result = try TaskResult.decode(data)
        try await waitUntil("the backend stored it") { try await harness.store.attempts(of: result.id).count == 1 }
        let shown = try await harness.warren(["results", "show", result.id, "--json"])
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        _ = try await backend.wait()
        await harness.close()
        #expect(python.status == 0)
        #expect(result.status == .succeeded)
        #expect(result.task == "warren.echo")
        #expect(result.result == .object(["from": .string("pika")]))
        #expect(try TaskResult.decode(Data(shown.stdout.utf8)) == result)
    }
}
