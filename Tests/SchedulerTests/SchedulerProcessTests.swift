import Cron
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WarrenCore
import WarrenTestSupport

/// The real `warren scheduler` binary: failover, hot reload, SIGHUP, metrics and status. Part
/// of the serialized scheduler suite (instances on one broker share the lock).
extension SchedulerBrokerTests {
    @Test("two schedulers, the active one killed with SIGKILL three times: no instant missing, duplicates only as recognisable ids, takeover in seconds")
    func failover() async throws {
        try await SchedulerHarness.with(["ha.yaml": """
            schedules:
              beat~: { every: 1s, task: warren.echo, queue: QUEUE, catchup: all }
            """]) { harness in
            var instances = [try harness.startProcess(instance: "a"), try harness.startProcess(instance: "b")]
            func active() -> WarrenProcess? { instances.first { $0.isRunning && $0.output.contains("[WarrenScheduler] active scheduler") } }
            try await waitUntil("one instance to become active") { active() != nil }
            var takeovers: [Duration] = []
            let kills = 3
            for round in 1...kills {
                let seen = harness.messages(of: "beat").count
                try await harness.waitFor(seen + 3, of: "beat")
                let victim = try #require(active())
                let killedAt = ContinuousClock.now
                victim.signal(SIGKILL)
                try await waitUntil("a standby to take over (round \(round))", timeout: .seconds(20)) {
                    !victim.isRunning && active() != nil
                }
                takeovers.append(ContinuousClock.now - killedAt)
                try await waitUntil("the new active instance to continue from the progress record") {
                    active()?.output.contains("continuing from the progress record") == true
                }
                instances.append(try harness.startProcess(instance: "replacement-\(round)"))
            }
            let seen = harness.messages(of: "beat").count
            try await harness.waitFor(seen + 3, of: "beat")
            let survivors = instances.filter(\.isRunning)
            #expect(survivors.count == 2)
            for instance in survivors { instance.signal(SIGTERM) }
            for instance in survivors { #expect(try await instance.wait(timeout: .seconds(20)).status == 0, "SIGTERM exits 0") }

            let (instants, republished) = try harness.expectEverySecond(of: "beat", republishedAtMost: kills)
            #expect(takeovers.allSatisfy { $0 < .seconds(5) }, "takeovers: \(takeovers)")
            print("failover: \(instants) instants, \(republished) republished, takeovers \(takeovers)")
        }
    }

    @Test("file changes take effect without a restart; a broken file keeps its last good version")
    func hotReload() async throws {
        try await SchedulerHarness.with(["a.yaml": """
            defaults: { queue: QUEUE }
            schedules:
              one~: { every: 1s, task: warren.echo }
            """]) { harness in
            let scheduler = try harness.startProcess(instance: "reload")
            try await harness.waitFor(1, of: "one")

            try harness.write("b.yaml", "defaults: { queue: QUEUE }\nschedules:\n  two~: { every: 1s, task: warren.echo }\n")
            try await harness.waitFor(2, of: "two")

            try harness.write("a.yaml", """
                defaults: { queue: QUEUE }
                schedules:
                  one~: { every: 1s, task: warren.echo }
                  bad~: { cron: "99 * * * *", task: warren.echo }
                """)
            try await waitUntil("the broken file to be rejected") { scheduler.output.contains("its last good version stays in force") }
            #expect(scheduler.output.contains("\(harness.directory)/a.yaml:4:"))
            let before = harness.messages(of: "one").count
            try await harness.waitFor(before + 2, of: "one")

            try FileManager.default.removeItem(atPath: harness.directory + "/b.yaml")
            try harness.write("a.yaml", """
                defaults: { queue: QUEUE }
                schedules:
                  one~: { every: 1s, task: warren.echo, paused: true }
                """)
            try await waitUntil("the removal and the pause to be applied") {
                scheduler.output.contains("removed=[\"two\(harness.suffix)\"]") && scheduler.output.contains("paused=[\"one\(harness.suffix)\"]")
            }
            #expect(scheduler.isRunning)
        }
    }

    @Test("SIGHUP reloads the schedule files (here with --no-watch, so nothing else does)")
    func reloadOnHangup() async throws {
        try await SchedulerHarness.with(["a.yaml": "schedules:\n  first~: { every: 1s, task: warren.echo, queue: QUEUE }\n"]) { harness in
            let scheduler = try harness.startProcess(instance: "hangup", ["--no-watch"])
            try await harness.waitFor(1, of: "first")
            try harness.write("a.yaml", """
                schedules:
                  first~: { every: 1s, task: warren.echo, queue: QUEUE }
                  second~: { every: 1s, task: warren.echo, queue: QUEUE }
                """)
            scheduler.signal(SIGHUP)
            try await harness.waitFor(1, of: "second")
            #expect(scheduler.isRunning)
        }
    }

    @Test("metrics count fires and show the active instance; `warren status` names it")
    func metricsAndStatus() async throws {
        try await SchedulerHarness.with(["a.yaml": "schedules:\n  counted~: { every: 1s, task: warren.echo, queue: QUEUE }\n"]) { harness in
            let port = TestPorts.free()
            let scheduler = try harness.startProcess(instance: "observed", ["--metrics", "127.0.0.1:\(port)"])
            try await harness.waitFor(2, of: "counted")
            let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
            var text = ""
            try await waitUntil("the metrics to count two fires") {
                text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
                return (prometheusSample(text, "warren_scheduler_fires_published_total") ?? 0) >= 2
            }
            #expect(prometheusSample(text, "warren_scheduler_active") == 1)
            #expect(prometheusSample(text, "warren_scheduler_schedules") == 1)
            // Probes for an orchestrator: alive, and ready while holding or contending for leadership.
            #expect(try await httpGet("http://127.0.0.1:\(port)/healthz") == (200, "ok\n"))
            #expect(try await httpGet("http://127.0.0.1:\(port)/readyz") == (200, "ready\n"))
            #expect(prometheusSample(text, "warren_scheduler_fire_lateness_seconds_count") ?? 0 >= 2)
            let status = try await runWarren(["status"], environment: ["WARREN_AMQP_URL": testBrokerURL])
            #expect(status.status == 0)
            #expect(status.stdout.contains("scheduler  active: observed (since "), "\(status.stdout)")

            scheduler.signal(SIGTERM)
            #expect(try await scheduler.wait().status == 0)
            let after = try await runWarren(["status"], environment: ["WARREN_AMQP_URL": testBrokerURL])
            #expect(after.stdout.contains("scheduler  no active instance"), "\(after.stdout)")
        }
    }

    @Test("bad arguments and a missing directory are usage errors naming the argument")
    func badArguments() async throws {
        let missing = try await runWarren(["scheduler", "--schedules", "/nonexistent/schedules"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "warren: --schedules: schedules directory /nonexistent/schedules: not found\n")
        let level = try await runWarren(["scheduler", "--schedules", "schedules", "--log-level", "loud"])
        #expect(level.status == 2)
        #expect(level.stderr == "warren: --log-level: expected trace, debug, info, notice, warning or error\n")
        let retry = try await runWarren(["scheduler", "--schedules", "schedules", "--standby-retry", "soon"])
        #expect(retry.status == 2)
        #expect(retry.stderr.hasPrefix("warren: --standby-retry: "))
    }
}

extension SchedulerBrokerTests {
    @Test("the active instance's connection closed by the broker: it stops publishing, an instance is active again within seconds, no instant missing")
    func connectionLost() async throws {
        try await SchedulerHarness.with(["net.yaml": """
            schedules:
              pulse~: { every: 1s, task: warren.echo, queue: QUEUE, catchup: all }
            """]) { harness in
            let first = try harness.startProcess(instance: "net-a\(harness.suffix)")
            try await waitUntil("the first instance to become active") { first.output.contains("[WarrenScheduler] active scheduler") }
            let second = try harness.startProcess(instance: "net-b\(harness.suffix)")
            try await waitUntil("the second instance to stand by") { second.output.contains("standing by") }
            try await harness.waitFor(3, of: "pulse")
            #expect(try await Broker.closeConnections(named: "warren-scheduler net-a\(harness.suffix)") == 1)
            let closedAt = ContinuousClock.now
            try await waitUntil("the first instance to step down") { first.output.contains("no longer the active scheduler") }
            let seen = harness.messages(of: "pulse").count
            try await harness.waitFor(seen + 3, of: "pulse", timeout: .seconds(20))
            let recovered = ContinuousClock.now - closedAt
            #expect(first.isRunning && second.isRunning)
            let activations = [first, second].map { $0.output.components(separatedBy: "[WarrenScheduler] active scheduler").count - 1 }
            #expect(activations.reduce(0, +) == 2, "one activation at the start, one after the loss: \(activations)")

            _ = try harness.expectEverySecond(of: "pulse", republishedAtMost: 1)
            #expect(recovered < .seconds(8), "fires flowing again after \(recovered)")
        }
    }
}

extension SchedulerBrokerTests {
    @Test("a 541 INTERNAL_ERROR while the scheduler declares its queues (a forwarder answers the first queue.declare): it starts again and publishes")
    func startsAgainAfter541() async throws {
        try await SchedulerHarness.with(["start.yaml": """
            schedules:
              start~: { every: 1s, task: warren.echo, queue: QUEUE }
            """]) { harness in
            let port = TestPorts.free()
            let forwarder = try TCPForwarder(port: port, failingDeclares: 1)
            defer { forwarder.stop() }
            let scheduler = try harness.startProcess(instance: "start\(harness.suffix)", ["--log-level", "info"],
                                                     url: TCPForwarder.url(testBrokerURL, port: port))
            try await waitUntil("the scheduler active, or gone") {
                scheduler.output.contains("[WarrenScheduler] active scheduler") || !scheduler.isRunning
            }
            #expect(forwarder.failedDeclares == 1, "the forwarder failed the start once")
            #expect(scheduler.isRunning, "the scheduler exited on a failed start: \(scheduler.output)")
            #expect(scheduler.output.contains("541"), "the log names the error: \(scheduler.output)")
            try await harness.waitFor(2, of: "start")
            scheduler.signal(SIGTERM)
            #expect(try await scheduler.wait(timeout: .seconds(20)).status == 0)
        }
    }
}

extension SchedulerHarness {
    /// Checks that the every-second schedule `schedule~` has a fire for each second from its
    /// first to its last, one task id per second, and at most `limit` fires published again
    /// (same id); returns how many seconds and how many republished.
    func expectEverySecond(of schedule: String, republishedAtMost limit: Int) throws -> (instants: Int, republished: Int) {
        let ids = messages(of: schedule).map(\.id)
        let instants = Set(messages(of: schedule).map { try! Timestamp.parse($0.scheduledFor!, in: .utc) })
        let first = try #require(instants.min()), last = try #require(instants.max())
        #expect(instants.count == Int(last - first + 1), "every second from the first fire to the last is there")
        #expect(Set(ids).count == instants.count, "one task id per instant")
        #expect(ids.count - Set(ids).count <= limit, "a fire is published again only if its instance died between publish and progress")
        return (instants.count, ids.count - Set(ids).count)
    }
}

/// The test broker through `scripts/broker ctl` (rabbitmqctl).
enum Broker {
    /// Closes every connection whose client-provided name is `name`; returns how many.
    static func closeConnections(named name: String) async throws -> Int {
        var closed = 0
        for line in try await brokerCtl(["list_connections", "pid", "client_properties", "--no-table-headers", "-q"]).split(separator: "\n")
        where line.contains("\"connection_name\",\"\(name)\"") {
            guard let end = line.firstIndex(of: ">") else { continue }
            _ = try await brokerCtl(["close_connection", String(line[...end]), "closed by a test"])
            closed += 1
        }
        return closed
    }
}
