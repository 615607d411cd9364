import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenTestSupport

/// What an orchestrator probes (`/healthz`, `/readyz` on `--metrics`), and a queue that loses its
/// consumer coming back without a restart.
@Suite("worker readiness and lost consumers (real binary, real broker)", .serialized)
struct ReadinessTests {
    @Test("a consumer the broker cancels (queue deleted) is subscribed again: counted, logged, /readyz ready again, tasks run")
    func consumerCancelledByTheBroker() async throws {
        let harness = try await WorkerHarness.make(queue: "cancelled")
        let port = TestPorts.free()
        let worker = try harness.startWorker(["--metrics", "127.0.0.1:\(port)"])
        let base = "http://127.0.0.1:\(port)"
        try await waitUntil("ready") { (try? await httpGet("\(base)/readyz"))?.status == 200 }
        #expect(try await httpGet("\(base)/readyz").text == "ready\n")
        #expect(try await httpGet("\(base)/healthz") == (200, "ok\n"))
        _ = try await harness.publisher.deleteQueue(harness.queue)
        try await waitUntil("the consumer lost and counted") {
            let metrics = try await httpGet("\(base)/metrics").text
            return prometheusSample(metrics, "warren_consumers_lost_total", ["queue=\"\(harness.queue)\""]) == 1
        }
        try await waitUntil("ready again") { (try? await httpGet("\(base)/readyz"))?.status == 200 }
        // The queue is back and consumed: a task published to it now runs.
        let id = try await harness.publish("warren.echo")
        #expect(try await harness.finalResult(id).status == .succeeded)
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        #expect(worker.output.contains("the broker ended the consumer of \(harness.queue)"))
        await harness.close()
    }

    @Test("/readyz is 503 naming the broker while the worker cannot reconnect, 200 once it has")
    func notReadyWithoutTheBroker() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let harness = try await WorkerHarness.make(queue: "unready", url: vhost.url)
        let port = TestPorts.free()
        let worker = try harness.startWorker(["--metrics", "127.0.0.1:\(port)"])
        let base = "http://127.0.0.1:\(port)"
        try await waitUntil("ready") { (try? await httpGet("\(base)/readyz"))?.status == 200 }
        // Three connections in the virtual host (the harness's and the worker's two): with a limit
        // of two, a worker connection closed now cannot come back.
        let pid = try await workerConnection("warren-worker-consume", in: vhost)
        _ = try await brokerCtl(["set_vhost_limits", "-p", vhost.name, #"{"max-connections": 2}"#])
        _ = try await brokerCtl(["close_connection", pid, "readiness test"])
        try await waitUntil("not ready") { (try? await httpGet("\(base)/readyz"))?.status == 503 }
        let unready = try await httpGet("\(base)/readyz").text
        #expect(unready.hasPrefix("not ready\nbroker: "), "\(unready)")
        #expect(try await httpGet("\(base)/healthz").status == 200, "alive all along")
        _ = try await brokerCtl(["clear_vhost_limits", "-p", vhost.name])
        try await waitUntil("ready again", timeout: .seconds(30)) { (try? await httpGet("\(base)/readyz"))?.status == 200 }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }
}
