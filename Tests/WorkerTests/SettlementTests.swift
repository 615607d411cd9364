import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport
@testable import WarrenWorker

/// The pure decisions of settling a finished task: what a failed publish means, what replaces a
/// refused message, and which redelivered copies run.
@Suite("settlement decisions")
struct SettlementDecisionTests {
    @Test("a lost connection is retried; a channel closed over a batch isolates it; a nack is published again for a while; a return is a refusal")
    func publishFailures() {
        #expect(PublishFailure(.connectionLost(reason: "reset"), publishedAlone: false) == .transient)
        #expect(PublishFailure(.notConnected, publishedAlone: true) == .transient)
        #expect(PublishFailure(.cancelled, publishedAlone: true) == .transient, "shutdown past its grace is not a refusal")
        #expect(PublishFailure(.channelClosed(code: 406, text: "message size"), publishedAlone: false) == .channelClosed)
        #expect(PublishFailure(.channelClosed(code: 406, text: "message size"), publishedAlone: true) == .refused)
        #expect(PublishFailure(.publishNacked, publishedAlone: false) == .nacked, "published again for a while: a quorum queue may be changing leader")
        #expect(PublishFailure(.returned(code: 312, text: "NO_ROUTE", exchange: "x", routingKey: "k"), publishedAlone: false) == .refused)
    }

    private func deadLetter(_ reason: String, _ error: String) -> OutgoingMessage {
        OutgoingMessage(body: Data(), exchange: WireNames.deadLetterExchange, routingKey: "q",
                        properties: BasicProperties(headers: [WireHeaders.deadLetterReason: .string(reason), WireHeaders.deadLetterError: .string(error)]))
    }

    @Test("a refused result is replaced by a failed one without output or value; a refused replacement by nothing")
    func refusedResult() throws {
        var result = TaskResult(id: "t1", task: "big", queue: "q", attempt: 1, status: .succeeded)
        result.output = String(repeating: "x", count: 1000)
        result.result = .string("value")
        let error = AMQPError.channelClosed(code: 406, text: "PRECONDITION_FAILED - message size 2000000 is larger than configured max size 1048576")
        let replacement = RefusalPolicy.replacement(for: .result, error: error, result: result, deadLetter: deadLetter)
        #expect(replacement.messages.map(\.role) == [.fallbackResult])
        #expect(!replacement.dropsUnconfirmedResult)
        let fallback = try TaskResult.decode(try #require(replacement.messages.first).message.body)
        #expect(fallback.status == .failed)
        #expect(fallback.output == nil && fallback.result == nil)
        #expect(fallback.error?.contains("the broker refused the task's result") == true)
        #expect(fallback.error?.contains("larger than configured max size") == true)
        #expect(RefusalPolicy.replacement(for: .fallbackResult, error: error, result: result, deadLetter: deadLetter).messages.isEmpty)
        #expect(RefusalPolicy.replacement(for: .deadLetter, error: error, result: result, deadLetter: deadLetter).messages.isEmpty)
    }

    @Test("a refused retry ends the task: a dead-letter copy and a final failed result replace the retrying one")
    func refusedRetry() throws {
        var result = TaskResult(id: "t2", task: "flaky", queue: "q", attempt: 1, status: .retrying)
        result.error = "exit 1; attempt 2 of 3 in 1s"
        let replacement = RefusalPolicy.replacement(for: .retry, error: .publishNacked, result: result, deadLetter: deadLetter)
        #expect(replacement.dropsUnconfirmedResult)
        #expect(replacement.messages.map(\.role) == [.deadLetter, .result])
        let copy = try #require(replacement.messages.first).message
        #expect(copy.properties.headers?[WireHeaders.deadLetterReason]?.stringValue == "retry-refused")
        let final = try TaskResult.decode(replacement.messages[1].message.body)
        #expect(final.status == .failed)
        #expect(final.error?.contains("the broker refused its retry") == true)
    }

    @Test("a redelivered copy runs when unknown, is held while its run goes on, and is acked once that run settled")
    func ledger() {
        let ledger = RunLedger<String>(memory: 2)
        let a = RunKey(id: "a", attempt: 1)
        #expect(ledger.admit("a-copy-0", key: a) == .run)
        ledger.started(a)
        #expect(ledger.admit("a-copy-1", key: a) == .held)
        #expect(ledger.admit("a-copy-2", key: a) == .held)
        #expect(ledger.admit("a-copy-3", key: RunKey(id: "a", attempt: 2)) == .run, "another attempt is another run")
        #expect(ledger.settled(a) == ["a-copy-1", "a-copy-2"])
        #expect(ledger.admit("a-copy-4", key: a) == .settled)
        // Abandoned: its copies go back to run again, and later ones run.
        let b = RunKey(id: "b", attempt: 1)
        ledger.started(b)
        #expect(ledger.admit("b-copy", key: b) == .held)
        #expect(ledger.abandoned(b) == ["b-copy"])
        #expect(ledger.admit("b-copy-2", key: b) == .run)
        // Memory: the oldest settled runs are forgotten.
        _ = ledger.settled(RunKey(id: "c", attempt: 1))
        _ = ledger.settled(RunKey(id: "d", attempt: 1))
        #expect(ledger.admit("a-late", key: a) == .run)
        #expect(ledger.admit("d-late", key: RunKey(id: "d", attempt: 1)) == .settled)
        #expect(ledger.counts.settled == 2)
    }

    @Test("a delivery's run key comes from its message id and attempt header, as the worker reads them")
    func runKeys() {
        #expect(RunKey(properties: BasicProperties(messageID: "x")) == RunKey(id: "x", attempt: 1))
        #expect(RunKey(properties: BasicProperties(headers: [WireHeaders.attempt: .int64(3)], messageID: "x")) == RunKey(id: "x", attempt: 3))
        #expect(RunKey(properties: BasicProperties()) == nil)
        #expect(RunKey(properties: BasicProperties(headers: [WireHeaders.attempt: .int64(0)], messageID: "x")) == nil)
    }
}

/// What the broker refuses or takes back never makes a finished task run again, and a retry is
/// never dropped on its way (issue 19, paths 2, 4 and 6).
@Suite("worker: refused publishes, held retries, redelivered copies (real binary, real broker)", .serialized)
struct SettlementEndToEndTests {
    /// A catalog whose `count` task appends a line to a file per run, after waiting for `gate`.
    private static func countingCatalog(runs: String, gate: String, extra: String = "") throws -> String {
        try catalogFile("""
            tasks:
              count:
                run: ["/bin/sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.05; done; echo run >> \(runs)"]
                timeout: 2m
            \(extra)
            """)
    }

    private static func lines(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("the broker refusing results (no write permission on warren.results): the task runs once and its delivery is acked, not requeued in a loop")
    func refusedResults() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("warren-runs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let gate = try GateTask()
        gate.open()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "refused", url: vhost.url)
        let worker = try harness.startWorker(["--tasks", try Self.countingCatalog(runs: runs, gate: gate.gate), "--log-level", "info"])
        try await waitUntil("the worker consuming") { worker.output.contains("worker started") }
        // Declared, so write permission is only needed for publishing now; the exchange and the
        // queue share the name, hence all writes but to warren.tasks are refused.
        _ = try await brokerCtl(["set_permissions", "-p", vhost.name, "guest", ".*", #"^warren\.tasks$"#, ".*"])
        _ = try await harness.publish("count")
        let refused = "the broker refused a message of a finished task"
        try await waitUntil("the result and its replacement refused, or the task run again") {
            worker.output.components(separatedBy: refused).count - 1 >= 2 || Self.lines(runs) >= 3
        }
        try await waitUntil("the delivery acked") { try await vhost.depth(of: harness.queue).map { $0 == (0, 0) } ?? false }
        #expect(Self.lines(runs) == 1, "ran \(Self.lines(runs)) times; the worker said: \(worker.output.suffix(2000))")
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("a retry whose queue is full when its delay is over ends in the dead-letter queue with a final result, instead of vanishing")
    func retryIntoAFullQueue() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("warren-runs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let holder = try GateTask()
        defer { holder.remove() }
        let catalog = try catalogFile("""
            tasks:
              flaky:
                run: ["/bin/sh", "-c", "echo run >> \(runs); exit 1"]
                retry: { attempts: 2, backoff: 6s, jitter: false }
              wait-for-gate:
                run: ["/bin/sh", "-c", "while [ ! -e \(holder.gate) ]; do sleep 0.05; done"]
                timeout: 2m
            """)
        let harness = try await WorkerHarness.make(queue: "full-retry", url: vhost.url, options: TaskQueueOptions(maxLength: 1))
        let worker = try harness.startWorker(["--tasks", catalog, "--concurrency", "1", "--prefetch", "1", "--max-queue-length", "1"])
        let flaky = try await harness.publish("flaky")
        try await waitUntil("the first attempt failed and its retry is in the delay chain") {
            harness.results(for: flaky).contains { $0.status == .retrying }
        }
        // Within the retry's 6 s: the worker busy with one task and another waiting fill the queue.
        let busy = try await harness.publish("wait-for-gate")
        try await waitUntil("the worker busy") { try await harness.publisher.inspectQueue(harness.queue).messageCount == 0 }
        let waiting = try await harness.publish("warren.echo")
        let final = try await harness.finalResult(flaky, timeout: .seconds(60))
        #expect(final.attempt == 2)
        #expect(final.status == .failed)
        #expect(final.error?.contains("its delay was over but its queue did not take it") == true, "\(final.error ?? "")")
        try await waitUntil("its dead letter") { harness.deadLetters.contains { $0.headers[WireHeaders.deadLetterReason]?.stringValue == "undeliverable" } }
        #expect(Self.lines(runs) == 1, "the second attempt never ran")
        holder.open()
        #expect(try await harness.finalResult(busy).status == .succeeded)
        #expect(try await harness.finalResult(waiting).status == .succeeded)
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("consumer_timeout reached while a task runs and others wait for the slot: each task runs exactly once")
    func consumerTimeout() async throws {
        // A broker of its own whose consumer_timeout is 5 s (scripts/test starts it; the broker
        // checks the timeout once a minute): other tests' channels must not have that limit.
        let url = TestBrokerNode.shortConsumerTimeout.url
        let gate = try GateTask()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "consumer-timeout", url: url)
        let worker = try harness.startWorker(["--tasks", gate.catalog, "--concurrency", "1", "--log-level", "info"])
        try await waitUntil("the worker consuming") { worker.output.contains("worker started") }
        let long = try await harness.publish("wait-for-gate")
        var waiting: [String] = []
        for _ in 0..<3 { waiting.append(try await harness.publish("warren.echo")) }
        try await waitUntil("the broker's consumer_timeout closing the worker's channel", timeout: .seconds(150)) {
            worker.output.contains("timed out")
        }
        gate.open()
        for id in [long] + waiting { #expect(try await harness.finalResult(id).status == .succeeded) }
        for id in [long] + waiting {
            #expect(harness.results(for: id).count == 1, "\(id) ran \(harness.results(for: id).count) times")
        }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        // Every delivery was acked: nothing went back to the queue when the worker closed.
        #expect(try await harness.publisher.inspectQueue(harness.queue).messageCount == 0)
        await harness.close()
    }
    @Test("SIGTERM while the broker blocks publishers (memory alarm): the worker exits after its grace, its task left in the queue")
    func sigtermWhileBlocked() async throws {
        let node = TestBrokerNode.shortConsumerTimeout
        let gate = try GateTask()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "blocked-exit", url: node.url)
        let worker = try harness.startWorker(["--tasks", gate.catalog, "--concurrency", "1", "--grace", "3s", "--log-level", "info"])
        _ = try await harness.publish("wait-for-gate")
        try await waitUntil("the task running") { gate.hasStarted }
        let alarmed = ["set_vm_memory_high_watermark", "0.000001"], normal = ["set_vm_memory_high_watermark", "0.4"]
        _ = try await brokerCtl(alarmed, on: node)
        do {
            try await waitUntil("the memory alarm raised") {
                try await brokerCtl(["eval", "rabbit_alarm:get_alarms()."], on: node).contains("memory")
            }
            // The task ends; its result cannot be published while the alarm lasts.
            gate.open()
            try await waitUntil("the worker publishing the result, blocked") { worker.output.contains("blocked") }
            worker.signal(SIGTERM)
            _ = try await worker.wait(timeout: .seconds(30))
        } catch {
            worker.signal(SIGKILL)
            _ = try? await brokerCtl(normal, on: node)
            throw error
        }
        _ = try await brokerCtl(normal, on: node)
        // Never acked: the broker gives the task back to the queue, for another run.
        try await waitUntil("the task back in its queue") { try await harness.publisher.inspectQueue(harness.queue).messageCount == 1 }
        await harness.close()
    }
}
