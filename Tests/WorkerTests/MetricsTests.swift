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
}
