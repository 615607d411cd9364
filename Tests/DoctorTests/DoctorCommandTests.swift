import Foundation
import RabbitMQ
import Testing
import WarrenTestSupport

/// `warren doctor`, the real binary against the real broker, each problem set up for real: a
/// broker setting changed with rabbitmqctl, a queue declared with other arguments, Warren's
/// settings given by flags and environment as the services read them.
@Suite("warren doctor (real binary, real broker)", .serialized)
struct DoctorCommandTests {
    static let brokerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/broker").standardized.path
    static let rabbitmqctl = "\(brokerScript) ctl"

    /// One virtual host for the suite (made once: each rabbitmqctl call costs a second of CPU),
    /// so no other suite's queues or dead letters reach these reports; left to the throwaway
    /// test broker.
    static let vhostCreation = Task { try await TestVirtualHost.create() }
    static var vhost: TestVirtualHost { get async throws { try await vhostCreation.value } }

    /// A directory with `tasks.yaml` and `schedules/s.yaml`, and a queue name of the test's own
    /// (`QUEUE` in the schedules' text), so the suite's tests do not meet.
    struct Setup {
        let directory: URL
        let queue = "doctor-test-\(UUID().uuidString.prefix(8).lowercased())"
        var tasks: String { directory.appendingPathComponent("tasks.yaml").path }
        var schedules: String { directory.appendingPathComponent("schedules").path }

        init(tasks: String, schedules: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("schedules"), withIntermediateDirectories: true)
            try tasks.write(to: directory.appendingPathComponent("tasks.yaml"), atomically: true, encoding: .utf8)
            try schedules.replacingOccurrences(of: "QUEUE", with: queue)
                .write(to: directory.appendingPathComponent("schedules/s.yaml"), atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    static let shortTasks = "tasks:\n  reports.generate:\n    run: [\"/bin/true\"]\n    timeout: 1m\n"
    static let nightly = "schedules:\n  nightly:\n    cron: \"0 2 * * *\"\n    task: reports.generate\n    queue: QUEUE\n"

    /// Runs `warren doctor` on `setup`, its worker consuming the setup's queue.
    static func doctor(_ setup: Setup, _ arguments: [String] = [], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runWarren(["doctor", "--amqp-url", try await vhost.url, "--tasks", setup.tasks, "--schedules", setup.schedules, "--queue", setup.queue] + arguments,
                      environment: environment)
    }

    static func withSetup(tasks: String = shortTasks, schedules: String = nightly, _ body: (Setup) async throws -> Void) async throws {
        let setup = try Setup(tasks: tasks, schedules: schedules)
        defer { setup.remove() }
        try await body(setup)
    }

    @Test("a clean setup passes: exit 0, no error, no warning")
    func clean() async throws {
        try await Self.withSetup { setup in
            let result = try await Self.doctor(setup, ["--concurrency", "2", "--prefetch", "2", "--consumer-timeout", "30m"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("broker  RabbitMQ 3."))
            #expect(result.stdout.contains("ok       consumer-timeout: the longest task, reports.generate, may run 1m10s"))
            #expect(result.stdout.contains("(as given with --consumer-timeout)"))
            #expect(result.stdout.hasSuffix("0 error(s), 0 warning(s)\n"))
        }
    }

    @Test("a broker consumer_timeout shorter than the longest task: exit 1 naming the task, the value read and the fix")
    func consumerTimeoutShorterThanTask() async throws {
        try await Self.withSetup(tasks: "tasks:\n  reports.generate:\n    run: [\"/bin/true\"]\n    timeout: 3h\n") { setup in
            // 2 hours: shorter than the task, and harmless to any other test on this broker.
            _ = try await brokerCtl(["eval", "application:set_env(rabbit, consumer_timeout, 7200000)."])
            let reset = ["eval", "application:set_env(rabbit, consumer_timeout, 1800000)."]
            let result: (status: Int32, stdout: String, stderr: String)
            do {
                result = try await Self.doctor(setup, ["--concurrency", "1", "--prefetch", "1", "--rabbitmqctl", Self.rabbitmqctl])
            } catch {
                _ = try? await brokerCtl(reset)
                throw error
            }
            _ = try await brokerCtl(reset)
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    consumer-timeout: task reports.generate may run 3h10s (timeout plus the kill grace), longer than the broker's consumer_timeout of 2h (read from the broker)"))
            #expect(result.stdout.contains("fix: set consumer_timeout = 10870000 in rabbitmq.conf"))
            #expect(result.stdout.contains("ok       alarms: no memory or disk alarm"))
        }
    }

    @Test("without rabbitmqctl the broker's default consumer_timeout is assumed, and said so")
    func consumerTimeoutAssumed() async throws {
        try await Self.withSetup(tasks: "tasks:\n  reports.generate:\n    run: [\"/bin/true\"]\n    timeout: 1h\n") { setup in
            let result = try await Self.doctor(setup, ["--prefetch", "4"])
            #expect(result.status == 1)
            #expect(result.stdout.contains("consumer_timeout of 30m (assumed: the broker's default; give --rabbitmqctl to read the real value)"))
            let given = try await Self.doctor(setup, ["--prefetch", "4", "--consumer-timeout", "off"])
            #expect(given.status == 0, "\(given.stdout)")
            #expect(given.stdout.contains("consumer_timeout is off (as given with --consumer-timeout)"))
        }
    }

    @Test("prefetch far above concurrency for long tasks (WARREN_CONCURRENCY read as the worker reads it): exit 1")
    func prefetchAboveConcurrency() async throws {
        try await Self.withSetup(tasks: "tasks:\n  reports.generate:\n    run: [\"/bin/true\"]\n    timeout: 20m\n") { setup in
            let result = try await Self.doctor(setup, environment: ["WARREN_CONCURRENCY": "1"])
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    prefetch: with --prefetch 4 and --concurrency 1 a delivery can wait behind 3 run(s) of reports.generate (20m10s each) before its own, unacked for up to 1h20m40s"))
            #expect(result.stdout.contains("fix: set --prefetch 1 (WARREN_PREFETCH) for tasks this long"))
            let fixed = try await Self.doctor(setup, environment: ["WARREN_CONCURRENCY": "1", "WARREN_PREFETCH": "1"])
            #expect(fixed.status == 0, "\(fixed.stdout)")
        }
    }

    @Test("heartbeats off (WARREN_HEARTBEAT=0): the connection negotiates none and doctor exits 1")
    func heartbeatsOff() async throws {
        try await Self.withSetup { setup in
            let result = try await Self.doctor(setup, environment: ["WARREN_HEARTBEAT": "0s"])
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    heartbeat: heartbeats are off"))
            let on = try await Self.doctor(setup, environment: ["WARREN_HEARTBEAT": "5s"])
            #expect(on.stdout.contains("ok       heartbeat: heartbeat 5s negotiated"))
        }
    }

    @Test("quorum asked for priorities: an error naming the schedule; a classic queue already there is an error saying how to move")
    func quorumPriorities() async throws {
        let schedules = "schedules:\n  urgent:\n    cron: \"0 2 * * *\"\n    task: reports.generate\n    queue: QUEUE\n    priority: 5\n"
        try await Self.withSetup(schedules: schedules) { setup in
            let fresh = try await Self.doctor(setup, environment: ["WARREN_QUEUE_TYPE": "quorum"])
            #expect(fresh.status == 1, "\(fresh.stdout)")
            #expect(fresh.stdout.contains("error    priorities: with --queue-type quorum the scheduler rejects schedule files that set priority (quorum queues have no priorities in RabbitMQ 3.10-3.13): urgent ("))

            // A classic worker declared the queue first, as a deployment moving to cluster mode has it.
            let connection = try await Connection.open(urls: try await Self.vhost.url)
            let channel = try await connection.openChannel()
            _ = try await channel.declare(QueueSpec(name: setup.queue, arguments: QueueArguments(type: .classic, maxPriority: 9)))
            defer { Task { _ = try? await channel.deleteQueue(setup.queue); await connection.close() } }
            let moved = try await Self.doctor(setup, environment: ["WARREN_QUEUE_TYPE": "quorum"])
            #expect(moved.status == 1)
            #expect(moved.stdout.contains("error    queue-arguments: queue \(setup.queue) exists with other arguments than Warren declares it with (queue type quorum)"))
            #expect(moved.stdout.contains("inequivalent arg '"))
            #expect(moved.stdout.contains("docs/operations.md, \"Moving to cluster mode\""))
            // Doctor changed nothing: the queue is still the classic one with priorities.
            _ = try await channel.declare(QueueSpec(name: setup.queue, arguments: QueueArguments(type: .classic, maxPriority: 9)))
        }
    }

    @Test("classic: a schedule's priority on a queue without priorities is a warning; a queue with priorities is no error")
    func classicPriorities() async throws {
        let schedules = "schedules:\n  urgent:\n    cron: \"0 2 * * *\"\n    task: reports.generate\n    queue: QUEUE\n    priority: 5\n"
        try await Self.withSetup(schedules: schedules) { setup in
            let connection = try await Connection.open(urls: try await Self.vhost.url)
            let channel = try await connection.openChannel()
            defer { Task { _ = try? await channel.deleteQueue(setup.queue); await connection.close() } }
            _ = try await channel.declare(QueueSpec(name: setup.queue, arguments: QueueArguments(type: .classic)))
            let plain = try await Self.doctor(setup)
            #expect(plain.stdout.contains("warning  priorities: these schedules set a priority, but their queues have no priorities, so it has no effect: urgent (queue \(setup.queue), "), "\(plain.stdout)")
            _ = try await channel.deleteQueue(setup.queue)
            _ = try await channel.declare(QueueSpec(name: setup.queue, arguments: QueueArguments(type: .classic, maxPriority: 4)))
            let ranked = try await Self.doctor(setup)
            #expect(!ranked.stdout.contains("priorities:"), "\(ranked.stdout)")
            #expect(!ranked.stdout.contains("queue-arguments"), "\(ranked.stdout)")
        }
    }

    @Test("a retry delay longer than the delay chain allows: exit 1")
    func delayBeyondChain() async throws {
        let tasks = "tasks:\n  reports.generate:\n    run: [\"/bin/true\"]\n    timeout: 1m\n    retry: { attempts: 3, backoff: 2000d, max_backoff: 10000d }\n"
        try await Self.withSetup(tasks: tasks) { setup in
            let result = try await Self.doctor(setup)
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    delay-chain: task reports.generate retries after up to 4000d, longer than the broker-held delay chain can hold (3106 days)"))
        }
    }

    @Test("a schedule naming a task the worker's catalog lacks: exit 1 naming schedule, file:line:col and task")
    func catalogMissingTask() async throws {
        let schedules = "schedules:\n  nightly:\n    cron: \"0 2 * * *\"\n    task: reports.missing\n    queue: QUEUE\n"
        try await Self.withSetup(schedules: schedules) { setup in
            let result = try await Self.doctor(setup)
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    catalog: schedule nightly (\(setup.schedules)/s.yaml:2:3) fires task reports.missing into queue \(setup.queue)"))
            #expect(result.stdout.contains("fix: add reports.missing to \(setup.tasks)"))
        }
    }

    @Test("--json: one object with the broker and every finding")
    func json() async throws {
        try await Self.withSetup { setup in
            let result = try await Self.doctor(setup, ["--json", "--prefetch", "4"], environment: ["WARREN_HEARTBEAT": "0s"])
            #expect(result.status == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(object["errors"] as? Int == 1)
            let findings = try #require(object["findings"] as? [[String: Any]])
            #expect(findings.first?["check"] as? String == "heartbeat")
            #expect(findings.first?["severity"] as? String == "error")
            #expect((object["broker"] as? [String: Any])?["heartbeat_seconds"] as? Int == 0)
        }
    }

    @Test("an unreachable broker is an error finding (exit 1) without the password; bad flags exit 2")
    func unreachableAndBadInput() async throws {
        try await Self.withSetup { setup in
            let result = try await runWarren(["doctor", "--tasks", setup.tasks, "--schedules", setup.schedules, "--queue", setup.queue],
                                       environment: ["WARREN_AMQP_URL": "amqp://guest:secret@127.0.0.1:1/"])
            #expect(result.status == 1)
            #expect(result.stdout.contains("error    broker: the broker cannot be reached"))
            #expect(!result.stdout.contains("secret"))
            let bad = try await runWarren(["doctor", "--prefetch", "0"])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("--prefetch: expected a positive number, got 0"))
            let badEnvironment = try await runWarren(["doctor"], environment: ["WARREN_QUEUE_TYPE": "stream"])
            #expect(badEnvironment.status == 2)
            #expect(badEnvironment.stderr.contains("WARREN_QUEUE_TYPE: expected classic or quorum, got \"stream\""))
            let badFlag = try await runWarren(["publish", "warren.echo", "--queue-type", "mirrored"])
            #expect(badFlag.status == 2)
            #expect(badFlag.stderr.contains("--queue-type: expected classic or quorum, got \"mirrored\""))
        }
    }
}
