import Foundation
import Testing
import WarrenTestSupport
import WarrenCore

/// `warren cancel`, the real binaries against the real broker.
@Suite("warren cancel (real binary, real broker)")
struct CancelTests {
    func cancel(_ id: String) async throws {
        let result = try await WarrenProcess(["cancel", id], environment: ["WARREN_AMQP_URL": WorkerHarness.url]).wait()
        #expect(result.status == 0)
        #expect(result.output == "cancel requested for \(id)\n")
    }

    @Test("a running run task is stopped, its process group killed, and recorded cancelled")
    func running() async throws {
        let marker = "warren-cancel-test-\(UUID().uuidString.prefix(8))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-cancel-\(UUID().uuidString).yaml").path
        try """
            tasks:
              hold:
                run: ["/bin/sh", "-c", "sleep 30 & sleep 30; echo {tag}"]
                kill_after: 1s
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let harness = try await WorkerHarness.make(queue: "cancel-running")
        let worker = try harness.startWorker(["--tasks", path])
        let id = try await harness.publish("hold", args: .object(["tag": .string(marker)]))
        try await waitUntil("the task to start") { try await TestCounts.queue(harness.queue, "messages_unacknowledged") == 1 }
        try await Task.sleep(for: .milliseconds(300))  // let the shell start its children
        try await cancel(id)
        let result = try await harness.finalResult(id, timeout: .seconds(15))
        #expect(result.status == .cancelled)
        #expect(result.error == "cancelled while running")
        // Its own run time, on the worker's clock: ended by the cancellation, not by its 30 s sleep.
        #expect(try #require(result.durationMs) < 20_000, "ran \(result.durationMs ?? -1) ms")
        #expect(harness.results(for: id).count == 1)
        try await waitUntil("the queue acked") { try await TestCounts.queue(harness.queue, "messages") == 0 }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("a queued task never runs, even on a worker started after the cancel")
    func queued() async throws {
        let harness = try await WorkerHarness.make(queue: "cancel-queued")
        let doomed = try await harness.publish("warren.echo")
        let kept = try await harness.publish("warren.echo")
        try await cancel(doomed)
        let worker = try harness.startWorker()
        let cancelled = try await harness.finalResult(doomed)
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.error == "cancelled before it started")
        #expect(try await harness.finalResult(kept).status == .succeeded)
        #expect(harness.results(for: doomed).count == 1)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }
}
