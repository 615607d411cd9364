import Foundation
import RabbitMQ
import Testing
import WarrenCore
@testable import WarrenDoctor

/// The checks as pure functions: settings and broker facts in, findings out.
@Suite("warren doctor rules")
struct DoctorRulesTests {
    static let local = [Endpoint(host: "127.0.0.1", port: 5673)]
    static let server = ServerInfo(product: "RabbitMQ", version: "3.10.8", heartbeatSeconds: 10)

    static func catalog(_ yaml: String) throws -> TaskCatalog {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try TaskCatalog.load(path: file.path)
    }

    static func schedules(_ yaml: String) -> [ScheduleDefinition] {
        let parsed = ScheduleFileParser.parse(yaml: yaml, file: "s.yaml")
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        return parsed.schedules
    }

    static func broker(timeout: Duration? = .seconds(1800), source: BrokerSetting<Duration?>.Source = .read,
                       server: ServerInfo = server, queues: [String: QueueFacts] = [:]) -> BrokerFacts {
        BrokerFacts(server: server, consumerTimeout: BrokerSetting(timeout, source: source), queues: queues)
    }

    static func findings(_ settings: WarrenSettings, _ broker: BrokerFacts?) -> [DoctorFinding] {
        DoctorRules.evaluate(settings, broker: broker)
    }

    static func only(_ findings: [DoctorFinding], _ check: String) -> [DoctorFinding] {
        findings.filter { $0.check == check }
    }

    @Test("a clean setup has no error and no warning")
    func clean() throws {
        let settings = WarrenSettings(endpoints: Self.local, concurrency: 2, prefetch: 2,
                                      catalog: try Self.catalog("tasks:\n  r.gen:\n    run: [\"/bin/true\"]\n    timeout: 1m\n"),
                                      schedules: Self.schedules("schedules:\n  n:\n    cron: \"0 2 * * *\"\n    task: r.gen\n"))
        let report = DoctorReport(Self.findings(settings, Self.broker()))
        #expect(report.errors == 0)
        #expect(report.warnings == 0)
        #expect(report.exitStatus == 0)
        #expect(report.findings.map(\.check).contains("consumer-timeout"))
    }

    @Test("heartbeat 0 in Warren's settings, or negotiated by the broker, is an error")
    func heartbeat() {
        let off = WarrenSettings(endpoints: Self.local, heartbeat: .zero)
        #expect(Self.only(Self.findings(off, Self.broker()), "heartbeat").map(\.severity) == [.error])
        var server = Self.server
        server.heartbeatSeconds = 0
        let negotiated = Self.findings(WarrenSettings(endpoints: Self.local), Self.broker(server: server))
        #expect(Self.only(negotiated, "heartbeat").map(\.severity) == [.error])
        #expect(Self.only(Self.findings(WarrenSettings(endpoints: Self.local), Self.broker()), "heartbeat").map(\.severity) == [.ok])
    }

    @Test("the longest task: one without a timeout first, else the longest timeout plus its kill grace")
    func longestTask() throws {
        let bounded = try Self.catalog("""
            tasks:
              a: { run: ["/bin/true"], timeout: 10m }
              b: { run: ["/bin/true"], timeout: 1h }
              c: { http: { url: "http://127.0.0.1:1/", timeout: 2h } }
            """)
        #expect(DoctorRules.longestTask(bounded)?.task == "c")
        #expect(DoctorRules.longestTask(bounded)?.run == .seconds(7200))
        let unbounded = try Self.catalog("tasks:\n  a: { run: [\"/bin/true\"], timeout: 10m }\n  z: { run: [\"/bin/true\"] }\n")
        #expect(DoctorRules.longestTask(unbounded)?.task == "z")
        #expect(DoctorRules.longestTask(unbounded)?.run == nil)
        #expect(DoctorRules.longestTask(TaskCatalog()) == nil)
    }

    @Test("a task longer than consumer_timeout is an error naming both and the setting to change")
    func taskLongerThanConsumerTimeout() throws {
        let settings = WarrenSettings(endpoints: Self.local, concurrency: 4, prefetch: 4,
                                      catalog: try Self.catalog("tasks:\n  long: { run: [\"/bin/true\"], timeout: 3h }\n"))
        let found = Self.only(Self.findings(settings, Self.broker(timeout: .seconds(7200))), "consumer-timeout")
        #expect(found.map(\.severity) == [.error])
        #expect(found.first?.message.contains("task long may run 3h10s") == true)
        #expect(found.first?.message.contains("2h (read from the broker)") == true)
        #expect(found.first?.fix?.contains("consumer_timeout = 10870000") == true)
    }

    @Test("a delivery held behind a full prefetch longer than consumer_timeout is an error; within it, a warning for long tasks")
    func prefetchAboveConcurrency() throws {
        let catalog = try Self.catalog("tasks:\n  mid: { run: [\"/bin/true\"], timeout: 20m }\n")
        let settings = WarrenSettings(endpoints: Self.local, concurrency: 1, prefetch: 4, catalog: catalog)
        let held = Self.only(Self.findings(settings, Self.broker()), "prefetch")
        #expect(held.map(\.severity) == [.error])
        #expect(held.first?.message.contains("behind 3 run(s) of mid") == true)
        #expect(held.first?.fix?.contains("--prefetch 1") == true)

        let within = WarrenSettings(endpoints: Self.local, concurrency: 2, prefetch: 3, catalog: catalog)
        let findings = Self.findings(within, Self.broker(timeout: .seconds(4 * 3600)))
        #expect(Self.only(findings, "prefetch").map(\.severity) == [.warning])
        #expect(Self.only(findings, "consumer-timeout").map(\.severity) == [.ok])
        // Short tasks: prefetch above concurrency is what it is for.
        let short = WarrenSettings(endpoints: Self.local, concurrency: 2, prefetch: 8,
                                   catalog: try Self.catalog("tasks:\n  s: { run: [\"/bin/true\"], timeout: 5s }\n"))
        #expect(Self.only(Self.findings(short, Self.broker()), "prefetch").isEmpty)
    }

    @Test("consumer_timeout off, a task without timeout, and an assumed value are each told apart")
    func consumerTimeoutStates() throws {
        let unbounded = WarrenSettings(endpoints: Self.local, catalog: try Self.catalog("tasks:\n  z: { run: [\"/bin/true\"] }\n"))
        #expect(Self.only(Self.findings(unbounded, Self.broker(timeout: nil)), "consumer-timeout").map(\.severity) == [.ok])
        let warned = Self.only(Self.findings(unbounded, Self.broker()), "consumer-timeout")
        #expect(warned.map(\.severity) == [.warning])
        #expect(warned.first?.message.contains("task z has no timeout") == true)
        let long = WarrenSettings(endpoints: Self.local, catalog: try Self.catalog("tasks:\n  l: { run: [\"/bin/true\"], timeout: 1h }\n"))
        let assumed = Self.only(Self.findings(long, Self.broker(source: .assumed)), "consumer-timeout")
        #expect(assumed.first?.message.contains("assumed") == true)
        #expect(Self.only(Self.findings(WarrenSettings(endpoints: Self.local), Self.broker()), "consumer-timeout").map(\.severity) == [.skipped])
    }

    @Test("a schedule firing into a consumed queue a task the catalog lacks is an error; other queues are not judged")
    func catalogMissingTask() throws {
        let schedules = Self.schedules("""
            schedules:
              a: { cron: "0 2 * * *", task: reports.missing }
              b: { cron: "0 3 * * *", task: other.task, queue: elsewhere }
            """)
        let settings = WarrenSettings(endpoints: Self.local, catalog: try Self.catalog("tasks:\n  r: { run: [\"/bin/true\"], timeout: 1m }\n"),
                                      catalogPath: "tasks.yaml", schedules: schedules)
        let found = Self.only(Self.findings(settings, nil), "catalog")
        #expect(found.map(\.severity) == [.error])
        #expect(found.first?.message.contains("schedule a (s.yaml:2:3) fires task reports.missing") == true)
        #expect(found.first?.fix == "add reports.missing to tasks.yaml, or fix the task name in the schedule")
        let skipped = WarrenSettings(endpoints: Self.local, schedules: schedules)
        #expect(Self.only(Self.findings(skipped, nil), "catalog").map(\.severity) == [.skipped])
    }

    @Test("retry delays beyond the delay chain are an error; retries outliving expires a warning")
    func delays() throws {
        let catalog = try Self.catalog("""
            tasks:
              far: { run: ["/bin/true"], timeout: 1m, retry: { attempts: 3, backoff: 2000d, max_backoff: 10000d, jitter: false } }
              near: { run: ["/bin/true"], timeout: 1m, retry: { attempts: 4, backoff: 1h, max_backoff: 1h } }
            """)
        let schedules = Self.schedules("schedules:\n  s: { cron: \"0 2 * * *\", task: near, expires: 2h }\n")
        let findings = Self.findings(WarrenSettings(endpoints: Self.local, catalog: catalog, schedules: schedules), nil)
        let chain = Self.only(findings, "delay-chain")
        #expect(chain.map(\.severity) == [.error])
        #expect(chain.first?.message.contains("task far retries after up to 4000d") == true)
        let expires = Self.only(findings, "expires")
        #expect(expires.map(\.severity) == [.warning])
        #expect(expires.first?.message.contains("wait 3h in all") == true)
    }

    @Test("quorum queues with schedule priorities: an error, as the scheduler rejects them")
    func quorumPriorities() {
        let schedules = Self.schedules("schedules:\n  p: { cron: \"0 2 * * *\", task: t, priority: 5 }\n")
        let settings = WarrenSettings(endpoints: Self.local, queueType: .quorum, schedules: schedules)
        let found = Self.only(Self.findings(settings, Self.broker()), "priorities")
        #expect(found.map(\.severity) == [.error])
        #expect(found.first?.message.contains("p (s.yaml:2:3)") == true)
        let four = Self.broker(server: ServerInfo(product: "RabbitMQ", version: "4.0.5", heartbeatSeconds: 60))
        #expect(Self.only(Self.findings(settings, four), "delivery-limit").map(\.severity) == [.warning])
        var classic = settings
        classic.queueType = .classic
        #expect(Self.only(Self.findings(classic, Self.broker()), "priorities").isEmpty)
    }

    @Test("a schedule's priority on a queue without priorities: a warning naming the schedule and queue")
    func ignoredPriorities() {
        let schedules = Self.schedules("schedules:\n  p: { cron: \"0 2 * * *\", task: t, priority: 5, queue: plain }\n  q: { cron: \"0 3 * * *\", task: t, priority: 5, queue: ranked }\n")
        let settings = WarrenSettings(endpoints: Self.local, schedules: schedules)
        let facts = Self.broker(queues: ["plain": QueueFacts(exists: true, priorities: false), "ranked": QueueFacts(exists: true, priorities: true)])
        let found = Self.only(Self.findings(settings, facts), "priorities")
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.hasSuffix("so it has no effect: p (queue plain, s.yaml:2:3)") == true, "\(found)")
        #expect(found.first?.fix?.contains("--max-priority") == true)
        let ranked = Self.broker(queues: ["plain": QueueFacts(exists: true, priorities: true)])
        #expect(Self.only(Self.findings(settings, ranked), "priorities").isEmpty)
    }

    @Test("a queue the broker holds with other arguments is an error that says how to move")
    func inequivalentQueue() {
        let facts = Self.broker(queues: ["default": QueueFacts(exists: true, inequivalence: "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'")])
        let found = Self.only(Self.findings(WarrenSettings(endpoints: Self.local, queueType: .quorum), facts), "queue-arguments")
        #expect(found.map(\.severity) == [.error])
        #expect(found.first?.message.contains("(queue type quorum)") == true)
        #expect(found.first?.fix?.contains("Moving to cluster mode") == true)
    }

    @Test("remote plain amqp:// and guest logins are warnings; loopback ones are not")
    func endpoints() {
        let remote = [Endpoint(host: "rabbit-1", user: "guest"), Endpoint(host: "rabbit-2", user: "warren", usesTLS: true)]
        let findings = Self.findings(WarrenSettings(endpoints: remote), nil)
        #expect(Self.only(findings, "tls").count == 1)
        #expect(Self.only(findings, "credentials").count == 1)
        #expect(Self.only(Self.findings(WarrenSettings(endpoints: Self.local), nil), "tls").isEmpty)
        #expect(Endpoint(host: "localhost").isLoopback && Endpoint(host: "127.0.0.2").isLoopback && Endpoint(host: "[::1]").isLoopback)
        #expect(!Endpoint(host: "10.0.0.1").isLoopback)
    }

    @Test("alarms are an error; a max_message_size below the payload limit a warning; queues no worker consumes a warning")
    func brokerState() {
        var facts = Self.broker(queues: ["reports": QueueFacts(exists: true, messages: 7, consumers: 0),
                                         WireNames.deadLetterQueue: QueueFacts(exists: true, messages: 2)])
        facts.alarms = ["disk alarm"]
        facts.maxMessageSize = 512 * 1024
        let schedules = Self.schedules("schedules:\n  r: { cron: \"0 2 * * *\", task: t, queue: reports }\n")
        let findings = Self.findings(WarrenSettings(endpoints: Self.local, schedules: schedules), facts)
        #expect(Self.only(findings, "alarms").map(\.severity) == [.error])
        #expect(Self.only(findings, "message-size").map(\.severity) == [.warning])
        #expect(Self.only(findings, "consumers").first?.message.contains("(7 waiting)") == true)
        #expect(Self.only(findings, "dead-letters").first?.message.hasPrefix("2 message(s)") == true)
    }

    @Test("the report lists errors first and exits 1 only for errors")
    func report() {
        let report = DoctorReport([DoctorFinding("a", .ok, "fine"), DoctorFinding("b", .warning, "hm"),
                                   DoctorFinding("c", .error, "bad"), DoctorFinding("d", .error, "worse")])
        #expect(report.findings.map(\.check) == ["c", "d", "b", "a"])
        #expect(report.exitStatus == 1)
        #expect(DoctorReport([DoctorFinding("b", .warning, "hm")]).exitStatus == 0)
    }

    @Test("broker versions compare by number; the default consumer_timeout follows the version")
    func versions() {
        let v = ServerInfo(version: "3.10.8", heartbeatSeconds: 10)
        #expect(v.versionIsAtLeast(3, 8, 17) && v.versionIsAtLeast(3, 10) && !v.versionIsAtLeast(3, 11) && !v.versionIsAtLeast(4, 0))
        #expect(BrokerFacts.defaultConsumerTimeout(for: v) == .seconds(1800))
        #expect(BrokerFacts.defaultConsumerTimeout(for: ServerInfo(version: "3.8.15", heartbeatSeconds: 10)) == .seconds(900))
        #expect(BrokerFacts.defaultConsumerTimeout(for: ServerInfo(version: "3.7.28", heartbeatSeconds: 10)) == nil)
    }
}

@Suite("warren doctor: reading rabbitmqctl's output")
struct DoctorSettingsParsingTests {
    @Test("consumer_timeout, max_message_size and alarms are read from the eval lines")
    func parse() {
        let plain = BrokerProbe.parseSettings("consumer_timeout=1800000\nmax_message_size=134217728\nalarms=[]\nok\n")
        #expect(plain == BrokerProbe.ReadSettings(consumerTimeout: .seconds(1800), maxMessageSize: 134_217_728, alarms: []))
        let off = BrokerProbe.parseSettings("consumer_timeout=undefined\nmax_message_size=undefined\nalarms=[{{resource_limit,disk,'rabbit@h'},[]},{{resource_limit,memory,'rabbit@h'},[]}]\nok\n")
        #expect(off == BrokerProbe.ReadSettings(consumerTimeout: nil, maxMessageSize: nil, alarms: ["disk alarm", "memory alarm"]))
        #expect(BrokerProbe.parseSettings("Error: unable to perform an operation on node") == nil)
    }
}
