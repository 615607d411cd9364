import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport

/// Messages another program could publish that Warren must not read another way than it writes
/// them: each gets a `rejected` result of its own with the reason, is dead-lettered, and never runs.
@Suite("worker: bad input is rejected, never run another way", .serialized)
struct BadInputTests {
    static func body(_ task: String, _ args: String = "{}") -> Data { Data("{\"task\":\"\(task)\",\"args\":\(args)}".utf8) }

    @Test("messages without message_id each get their own id, shared by their result and dead-letter copy")
    func malformedWithoutIDs() async throws {
        let harness = try await WorkerHarness.make(queue: "noid")
        let worker = try harness.startWorker()
        for body in ["not json", "[1, 2]", "{\"args\": {}}"] {
            try await harness.publishRaw(Data(body.utf8))
        }
        try await waitUntil("three rejected results") { harness.results.filter { $0.status == .rejected }.count == 3 }
        let ids = harness.results.filter { $0.status == .rejected }.map(\.id)
        #expect(Set(ids).count == 3)
        #expect(!ids.contains("unknown"))
        try await waitUntil("three dead letters") { harness.deadLetters.count == 3 }
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        let logged = worker.output
        for id in ids { #expect(logged.contains("task_id=\(id)")) }
        await harness.close()
    }

    @Test("x-warren-attempt out of range or not a number is rejected before anything runs")
    func attemptHeader() async throws {
        let harness = try await WorkerHarness.make(queue: "attempt")
        let worker = try harness.startWorker()
        let cases: [(String, FieldValue, String)] = [
            ("attempt-negative", .int32(-5), "got -5"),
            ("attempt-zero", .int64(0), "got 0"),
            ("attempt-text", .string("abc"), "got \"abc\""),
            ("attempt-huge", .int64(1_000_000), "got 1000000"),
        ]
        for (id, value, _) in cases {
            try await harness.publishRaw(Self.body("warren.echo"),
                                         properties: BasicProperties(headers: [WireHeaders.attempt: value], deliveryMode: 2, messageID: id))
        }
        let good = try await harness.publish("warren.echo")
        #expect(try await harness.finalResult(good).status == .succeeded)
        for (id, _, shown) in cases {
            let result = try await harness.finalResult(id)
            #expect(result.status == .rejected, "\(id)")
            #expect(result.error == "malformed task message: x-warren-attempt must be a whole number from 1 to 100, \(shown)")
            #expect(harness.results(for: id).count == 1, "\(id) ran or was retried")
        }
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("duplicate keys, a priority above 9, unreadable instants and non-object sleep args are rejected with their reason")
    func ambiguousMessages() async throws {
        let harness = try await WorkerHarness.make(queue: "ambiguous")
        let worker = try harness.startWorker()
        try await harness.publishRaw(Data("{\"task\":\"nope.x\",\"task\":\"warren.echo\"}".utf8),
                                     properties: BasicProperties(deliveryMode: 2, messageID: "duplicate"))
        try await harness.publishRaw(Self.body("warren.echo"), properties: BasicProperties(deliveryMode: 2, priority: 255, messageID: "priority"))
        try await harness.publishRaw(Self.body("warren.echo"),
                                     properties: BasicProperties(headers: [WireHeaders.expiresAt: .string("tomorrow")], deliveryMode: 2, messageID: "expires"))
        try await harness.publishRaw(Self.body("warren.echo"),
                                     properties: BasicProperties(headers: [WireHeaders.scheduledFor: .int64(5)], deliveryMode: 2, messageID: "scheduled"))
        try await harness.publishRaw(Self.body("warren.sleep", "[1]"), properties: BasicProperties(deliveryMode: 2, messageID: "sleep-list"))
        let expected = [
            "duplicate": "malformed task message: the body is not a JSON object with \"task\" and \"args\" (invalid JSON at byte 17: duplicate key \"task\")",
            "priority": "malformed task message: priority must be 0 to 9, got 255",
            "expires": "malformed task message: x-warren-expires-at must be an ISO-8601 instant such as 2026-03-08T02:30:00Z, got \"tomorrow\"",
            "scheduled": "malformed task message: x-warren-scheduled-for must be an ISO-8601 instant such as 2026-03-08T02:30:00Z, got 5",
            "sleep-list": "args must be an object such as {\"seconds\": 0.5}",
        ]
        for (id, error) in expected.sorted(by: { $0.key < $1.key }) {
            let result = try await harness.finalResult(id)
            #expect(result.status == .rejected, "\(id)")
            #expect(result.error == error, "\(id)")
        }
        // A scheduled fire's own header, with its zone's offset, is still read.
        let fire = TaskMessage(task: "warren.echo", queue: harness.queue, scheduledFor: "2026-03-08T03:00:00-07:00").outgoing()
        try await harness.publisher.publish(fire.body, exchange: fire.exchange, routingKey: fire.routingKey, properties: fire.properties, mandatory: true)
        let fired = try await harness.finalResult(fire.properties.messageID!)
        #expect(fired.status == .succeeded)
        #expect(fired.scheduledFor == "2026-03-08T03:00:00-07:00")
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }

    @Test("a queue name too long for the delay chain's routing keys is refused up front; the longest allowed one takes delayed tasks")
    func queueNameLength() async throws {
        let unique = UUID().uuidString.prefix(8).lowercased()
        let tooLong = String(repeating: "q", count: 191) + "-" + unique
        let refusing = try WarrenProcess(["worker", "--queue", tooLong], environment: ["WARREN_AMQP_URL": testBrokerURL])
        defer { refusing.signal(SIGKILL) }
        let refused = try await refusing.wait(timeout: .seconds(15))
        #expect(refused.status == 2)
        #expect(refused.output == "warren: --queue \(tooLong): a queue name is at most 199 bytes (it travels in the delay chain's 255-byte routing keys), got 200\n")
        let publish = try await runWarren(["publish", "warren.echo", "--queue", tooLong], environment: ["WARREN_AMQP_URL": testBrokerURL])
        #expect(publish.status == 2)
        #expect(publish.stderr.contains("at most 199 bytes"))

        let longest = String(repeating: "q", count: 190) + "-" + unique
        #expect(longest.utf8.count == 199)
        let worker = try WarrenProcess(["worker", "--queue", longest, "--log-level", "warning"], environment: ["WARREN_AMQP_URL": testBrokerURL])
        let connection = try await Connection.open(urls: testBrokerURL)
        let channel = try await connection.openChannel(confirms: false)
        try await waitUntil("the worker consuming") { (try? await channel.inspectQueue(longest))?.consumerCount == 1 }
        let delayed = try await runWarren(["publish", "warren.echo", "--queue", longest, "--delay", "1s", "--wait", "--timeout", "20s"],
                                    environment: ["WARREN_AMQP_URL": testBrokerURL])
        #expect(delayed.status == 0, "\(delayed.stderr)")
        #expect(delayed.stdout.contains("\"status\":\"succeeded\""))
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        _ = try? await channel.deleteQueue(longest)
        await connection.close()
    }
    /// The worker's resident memory, from /proc.
    static func residentMegabytes(_ pid: Int32) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes / 1024
    }

    /// The least resident memory seen in ten samples over a second: what the worker keeps,
    /// not what a message still on its way (an ack, a confirm) holds for a moment.
    static func settledResidentMegabytes(_ pid: Int32) async throws -> Double {
        var least = Double.infinity
        for _ in 0..<10 {
            least = min(least, try residentMegabytes(pid))
            try await Task.sleep(for: .milliseconds(100))
        }
        return least
    }

    @Test("bodies over the size limit are rejected without the worker keeping their memory")
    func largeRejectsGiveMemoryBack() async throws {
        let harness = try await WorkerHarness.make(queue: "large-rejects")
        let worker = try harness.startWorker(["--concurrency", "2"])
        // Warmed up: a task run and one large body rejected, so what is measured is what stays.
        let warm = try await harness.publish("warren.echo")
        #expect(try await harness.finalResult(warm).status == .succeeded)
        let large = Data("{\"task\":\"warren.echo\",\"args\":{\"x\":\"\(String(repeating: "x", count: 5 << 20))\"}}".utf8)
        try await harness.publishRaw(large)
        try await waitUntil("the first large body rejected and dead-lettered") {
            harness.results.filter { $0.status == .rejected }.count == 1 && harness.deadLetters.count == 1
        }
        let before = try await Self.settledResidentMegabytes(worker.pid)
        for _ in 0..<6 { try await harness.publishRaw(large) }
        try await waitUntil("six more rejected and dead-lettered") {
            harness.results.filter { $0.status == .rejected }.count == 7 && harness.deadLetters.count == 7
        }
        let after = try await Self.settledResidentMegabytes(worker.pid)
        // Each 5 MiB body was held whole at least twice on its way (assembled, then decoded): kept,
        // the six would add 60 MB (25-30 MB before the fix). Runs after it added 0.1-5 MB, and once
        // 10 MB (about one body's two copies, not yet given back); under 16 MB is no body kept per body.
        #expect(after - before < 16, "resident memory \(before) MB -> \(after) MB after six 5 MiB bodies")
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }
}
