import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// A worker's two connections (deliveries, results) fail and come back independently.
@Suite("worker connection loss (real binary, real broker)")
struct ConnectionLossTests {
    @Test("the results connection down while a task runs: the result is published once it is back; the task runs once")
    func resultsConnectionDown() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        // A task still running when the results connection is closed, whatever the machine's load.
        let gate = try GateTask()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "results-link", url: vhost.url)
        let worker = try harness.startWorker(["--tasks", gate.catalog])
        // Three connections in the virtual host (the harness's and the worker's two): with a limit
        // of two, the worker's results connection cannot come back once closed. Found before the
        // task starts, so that only one rabbitmqctl call falls within the task's run.
        let pid = try await workerConnection("warren-worker-publish", in: vhost)
        _ = try await brokerCtl(["set_vhost_limits", "-p", vhost.name, #"{"max-connections": 2}"#])
        let id = try await harness.publish("wait-for-gate")
        try await waitUntil("the task running") { try await harness.publisher.inspectQueue(harness.queue).messageCount == 0 }
        _ = try await brokerCtl(["close_connection", pid, "results connection test"])
        gate.open()
        let held = "could not publish a result; publishing it again once the broker is back"
        try? await waitUntil("the worker holding the finished task's result") { worker.output.contains(held) }
        #expect(worker.output.contains(held), "the worker said: \(worker.output)")
        #expect(harness.results(for: id).isEmpty)
        #expect(try await vhost.depth(of: harness.queue)?.unacknowledged == 1, "the delivery is still held, not requeued")
        _ = try await brokerCtl(["clear_vhost_limits", "-p", vhost.name])
        let result = try await harness.finalResult(id)
        #expect(result.status == .succeeded)
        try await waitUntil("the delivery acked") { try await vhost.depth(of: harness.queue).map { $0 == (0, 0) } ?? false }
        #expect(harness.results(for: id).count == 1, "one run, one result")
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        await harness.close()
        #expect(exit.status == 0)
    }
}

@Suite("worker: deliveries of a lost channel never start")
struct StaleDeliveryTests {
    @Test("tasks waiting for a slot when the consuming connection is closed run once each, not twice, and so does the running one")
    func waitingDeliveriesOfALostChannel() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        // A task that holds the only slot until the test opens its gate, whatever the machine's load.
        let gate = try GateTask()
        defer { gate.remove() }
        let harness = try await WorkerHarness.make(queue: "stale", url: vhost.url)
        let worker = try harness.startWorker(["--tasks", gate.catalog, "--concurrency", "1", "--prefetch", "10"])
        let pid = try await workerConnection("warren-worker-consume", in: vhost)
        let holder = try await harness.publish("wait-for-gate")
        var echoes: [String] = []
        for _ in 0..<5 { echoes.append(try await harness.publish("warren.echo")) }
        // None left ready (the broker's own count, not the periodic statistics): all six are with the worker.
        try await waitUntil("all six delivered to the worker") { try await harness.publisher.inspectQueue(harness.queue).messageCount == 0 }
        _ = try await brokerCtl(["close_connection", pid, "stale delivery test"])
        #expect(harness.results.isEmpty, "the gate task holds the only slot")
        gate.open()
        for id in echoes { #expect(try await harness.finalResult(id).status == .succeeded) }
        // The gate task's own delivery went with the connection and came back redelivered while
        // it still ran: that copy is held, and acked once the run's result is confirmed.
        #expect(try await harness.finalResult(holder).status == .succeeded)
        try await waitUntil("every delivery acked") { try await vhost.depth(of: harness.queue).map { $0 == (0, 0) } ?? false }
        for id in echoes + [holder] { #expect(harness.results(for: id).count == 1, "\(id) ran \(harness.results(for: id).count) times") }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }
}

@Suite("worker: a task run twice is recorded twice (real binaries, real broker, SQLite)", .serialized)
struct RerunRecordTests {
    @Test("a running task whose worker loses its consuming connection runs again on another worker; `results show` lists both runs, the second redelivered")
    func rerunRecorded() async throws {
        let vhost = try await TestVirtualHost.create()
        defer { vhost.delete() }
        let gate = try GateTask()
        defer { gate.remove() }
        // A store the backend creates (at the schema of the binary under test).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-rerun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = try await WorkerHarness.make(queue: "rerun", url: vhost.url)
        let environment = ["WARREN_AMQP_URL": vhost.url, "WARREN_STORE": "sqlite:" + directory.appendingPathComponent("results.sqlite").path]
        let backend = try WarrenProcess(["backend", "--http", "off", "--log-level", "warning"], environment: environment)
        // The first worker logs in as a user of its own, so that its consuming connection can be
        // kept from coming back (a connection limit for that user) while its results still go out.
        let user = "rerun-\(vhost.name.suffix(8))"
        _ = try await brokerCtl(["add_user", user, "secret"])
        defer { brokerCtlInBackground(["delete_user", user]) }
        _ = try await brokerCtl(["set_permissions", "-p", vhost.name, user, ".*", ".*", ".*"])
        let first = try WarrenProcess(["worker", "--queue", harness.queue, "--log-level", "warning", "--tasks", gate.catalog, "--concurrency", "1"],
                                      environment: ["WARREN_AMQP_URL": vhost.url.replacingOccurrences(of: "guest:guest@", with: "\(user):secret@")])
        let pid = try await workerConnection("warren-worker-consume", in: vhost)
        let id = try await harness.publish("wait-for-gate")
        try await waitUntil("the task running") { gate.hasStarted }
        _ = try await brokerCtl(["set_user_limits", user, #"{"max-connections": 1}"#])
        // The delivery goes with the connection: the broker requeues it, marked redelivered, and
        // the second worker runs it while the first run goes on and publishes its result.
        _ = try await brokerCtl(["close_connection", pid, "rerun record test"])
        try await waitUntil("the delivery back in the queue") { try await vhost.depth(of: harness.queue).map { $0 == (1, 0) } ?? false }
        let worker = try harness.startWorker(["--tasks", gate.catalog, "--concurrency", "1"])
        try await waitUntil("the second worker holding the redelivered copy") { try await vhost.depth(of: harness.queue).map { $0 == (0, 1) } ?? false }
        gate.open()
        try await waitUntil("both runs' results published") { harness.results(for: id).count == 2 }
        var shown: [TaskResult] = []
        try? await waitUntil("both runs stored") {
            let show = try await runWarren(["results", "show", id, "--json"], environment: environment)
            shown = try show.stdout.split(separator: "\n").map { try TaskResult.decode(Data($0.utf8)) }
            return shown.count == 2
        }
        let text = try await runWarren(["results", "show", id], environment: environment)
        worker.signal(SIGTERM)
        first.signal(SIGTERM)
        backend.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        #expect(try await first.wait().status == 0)
        #expect(try await backend.wait().status == 0)
        await harness.close()
        #expect(shown.count == 2, "`results show --json` listed \(shown.count) run(s)")
        #expect(shown.map(\.attempt) == [1, 1])
        #expect(shown.map(\.status) == [.succeeded, .succeeded])
        #expect(shown.map(\.redelivered) == [false, true])
        #expect(Set(shown.compactMap(\.runID)).count == 2, "two runs, two run ids")
        #expect(text.stdout.contains("attempt 1, run 1: succeeded"), "\(text.stdout)")
        #expect(text.stdout.contains("attempt 1, run 2 (redelivered): succeeded"), "\(text.stdout)")
    }
}
