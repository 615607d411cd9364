import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// A worker's two connections (deliveries, results) fail and come back independently.
@Suite("worker connection loss (real binary, real broker)")
struct ConnectionLossTests {
    @Test("the results connection down while a task runs: the result is published once it is back; the task runs once")
    func resultsConnectionDown() async throws {
        let vhost = try TestVirtualHost.create()
        defer { vhost.delete() }
        let harness = try await WorkerHarness.make(queue: "results-link", url: vhost.url)
        let worker = try harness.startWorker()
        // Three connections in the virtual host (the harness's and the worker's two): with a limit
        // of two, the worker's results connection cannot come back once closed. Found before the
        // task starts, so that only one rabbitmqctl call falls within the task's run.
        var publishing: Substring?
        try await waitUntil("the worker's results connection") {
            let listing = try brokerCtl(["list_connections", "-q", "--no-table-headers", "pid", "vhost", "client_properties"])
            publishing = listing.split(separator: "\n").first { $0.contains(vhost.name) && $0.contains("warren-worker-publish") }
            return publishing != nil
        }
        let pid = try #require(publishing?.split(whereSeparator: { $0 == "\t" }).first.map(String.init))
        _ = try brokerCtl(["set_vhost_limits", "-p", vhost.name, #"{"max-connections": 2}"#])
        // The task takes 5 s; the one call below closes the results connection well before it ends.
        let id = try await harness.publish("warren.sleep", args: .object(["seconds": .number(5)]))
        _ = try brokerCtl(["close_connection", pid, "results connection test"])
        let held = "could not publish a result; publishing it again once the broker is back"
        try? await waitUntil("the worker holding the finished task's result") { worker.output.contains(held) }
        #expect(worker.output.contains(held), "the worker said: \(worker.output)")
        #expect(harness.results(for: id).isEmpty)
        #expect(try vhost.depth(of: harness.queue)?.unacknowledged == 1, "the delivery is still held, not requeued")
        _ = try brokerCtl(["clear_vhost_limits", "-p", vhost.name])
        let result = try await harness.finalResult(id)
        #expect(result.status == .succeeded)
        try await waitUntil("the delivery acked") { try vhost.depth(of: harness.queue).map { $0 == (0, 0) } ?? false }
        #expect(harness.results(for: id).count == 1, "one run, one result")
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        await harness.close()
        #expect(exit.status == 0)
    }
}
