import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WarrenTestSupport
import WarrenCore

/// `warren worker --metrics`: Prometheus text with the worker's counters.
@Suite("worker metrics (real binary, real broker)")
struct MetricsTests {
    @Test("counters by task and status, dead letters by reason, durations, in flight")
    func scrape() async throws {
        let harness = try await WorkerHarness.make(queue: "metrics")
        let port = TestPorts.free()
        let worker = try harness.startWorker(["--metrics", "127.0.0.1:\(port)"])
        let echoes = [try await harness.publish("warren.echo"), try await harness.publish("warren.echo")]
        let failure = try await harness.publish("warren.fail")
        let unknown = try await harness.publish("made.up.name")
        for id in echoes + [failure, unknown] { _ = try await harness.finalResult(id) }
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
        var text = ""
        try await waitUntil("the metrics to show the four results") {
            text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            return prometheusSample(text, "warren_tasks_finished_total", ["task=\"(unknown)\""]) == 1
        }
        #expect(prometheusSample(text, "warren_tasks_finished_total", ["task=\"warren.echo\"", "status=\"succeeded\""]) == 2)
        #expect(prometheusSample(text, "warren_tasks_finished_total", ["task=\"warren.fail\"", "status=\"failed\""]) == 1)
        #expect(prometheusSample(text, "warren_tasks_started_total", ["task=\"warren.echo\""]) == 2)
        #expect(prometheusSample(text, "warren_tasks_dead_lettered_total", ["task=\"warren.fail\"", "reason=\"failed\""]) == 1)
        #expect(prometheusSample(text, "warren_tasks_dead_lettered_total", ["task=\"(unknown)\"", "reason=\"unknown-task\""]) == 1)
        #expect(prometheusSample(text, "warren_task_duration_seconds_count", ["task=\"warren.echo\""]) == 2)
        #expect(prometheusSample(text, "warren_tasks_in_flight", []) == 0)
        #expect(prometheusSample(text, "warren_broker_connected", []) == 1)
        #expect(!text.contains("made.up.name"), "an unknown task's name must not become a label")
        #expect(!text.contains("guest"), "no credentials in metrics")
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    @Test("warren_deliveries_unsettled is the broker's unacked count for the worker: running tasks and those waiting for a slot")
    func unsettledMatchesTheBroker() async throws {
        let gate = try GateTask()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "unsettled")
        let port = TestPorts.free()
        let worker = try harness.startWorker(["--tasks", gate.catalog, "--prefetch", "10", "--concurrency", "2", "--metrics", "127.0.0.1:\(port)"])
        var ids: [String] = []
        for _ in 0..<15 { ids.append(try await harness.publish("wait-for-gate")) }
        try await waitUntil("10 unacked at the broker") { try await TestCounts.queue(harness.queue, "messages_unacknowledged") == 10 }
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
        var text = ""
        try await waitUntil("the gauge to say 10") {
            text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            return prometheusSample(text, "warren_deliveries_unsettled") == 10
        }
        #expect(prometheusSample(text, "warren_tasks_in_flight") == 2, "two run, eight wait for a slot")
        gate.open()
        for id in ids { _ = try await harness.finalResult(id) }
        try await waitUntil("the gauge back to 0") {
            prometheusSample((try? String(contentsOf: url, encoding: .utf8)) ?? "", "warren_deliveries_unsettled") == 0
        }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }
}
