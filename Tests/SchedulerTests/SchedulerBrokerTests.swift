import Cron
import Foundation
import Logging
import RabbitMQ
import Synchronization
import Testing
import WarrenCore
import WarrenMessaging
import WarrenTestSupport
@testable import WarrenScheduler

/// The real scheduler against the real broker, on an injected clock. Serialized: scheduler
/// instances on one broker share the lock and the progress record.
@Suite(.serialized) struct SchedulerBrokerTests {
    @Test("a DST spring-forward and fall-back day fires exactly as `warren schedules next` predicts",
          arguments: [("America/New_York", "2026-03-08"), ("America/New_York", "2026-11-01"),
                      ("Europe/Berlin", "2026-03-29"), ("Europe/Berlin", "2026-10-25")])
    func daylightSavingDay(zone: String, day: String) async throws {
        let expressions = ["fixed": "30 1-3 * * *", "wildcard": "*/20 1-3 * * *", "seconds": "0 0 2 * * *"]
        try await SchedulerHarness.with(["dst.yaml": """
            timezone: \(zone)
            defaults: { queue: QUEUE }
            schedules:
            \(expressions.map { "  \($0.key)~: { cron: \"\($0.value)\", task: warren.echo }" }.joined(separator: "\n"))
            """]) { harness in
            let rules = ZoneRules.named(zone)!
            let start = try Timestamp.parse("\(day)T00:00:00", in: rules)
            let end = start + 86_400
            let clock = VirtualClock(milliseconds: start * 1000)
            let (_, task) = try await harness.startScheduler(clock: clock)
            clock.fastForward(until: end * 1000)
            for (name, expression) in expressions.sorted(by: { $0.key < $1.key }) {
                let predicted = try await runWarren(["schedules", "next", "--cron", expression, "--tz", zone,
                                               "--from", Timestamp.format(start, in: rules), "--count", "20"])
                #expect(predicted.status == 0)
                let expected = predicted.stdout.split(separator: "\n").map(String.init).filter { try! Timestamp.parse($0, in: rules) <= end }
                try await harness.waitFor(expected.count, of: name)
                #expect(harness.messages(of: name).map(\.scheduledFor) == expected, "\(zone) \(day) \(name)")
                #expect(harness.messages(of: name).map(\.id) == expected.map { Fire.taskID(schedule: name + harness.suffix, scheduledFor: try! Timestamp.parse($0, in: rules)) })
            }
            try await harness.stop(task)
            // Nothing beyond the day was published, and the progress record says how far it got.
            #expect(harness.messages.allSatisfy { try! Timestamp.parse($0.scheduledFor!, in: rules) <= end })
            let progress = try await harness.progress()
            #expect(progress.map { $0.watermark <= end * 1000 && $0.watermark > (end - 86_400) * 1000 } == true)
        }
    }

    @Test("after downtime, missed fires follow catchup skip | latest | all within catchup_window")
    func catchupAfterDowntime() async throws {
        try await SchedulerHarness.with(["catchup.yaml": """
            defaults: { queue: QUEUE, catchup_window: 1h }
            schedules:
              skipper~: { every: 10m, task: warren.echo, catchup: skip }
              latest~: { every: 10m, task: warren.echo, catchup: latest }
              everything~: { every: 10m, task: warren.echo, catchup: all }
            """]) { harness in
            let t0 = milliseconds("2026-06-01T12:00:00Z")
            let first = VirtualClock(milliseconds: t0)
            let (_, running) = try await harness.startScheduler(clock: first, instance: "first")
            first.fastForward(until: t0 + 30 * 60_000)
            for name in ["skipper", "latest", "everything"] { try await harness.waitFor(3, of: name) }
            try await waitUntil("progress up to 12:30") { first.earliestSleep == t0 + 40 * 60_000 }
            try await harness.stop(running)
            #expect(try await harness.progress()?.watermark == t0 + 30 * 60_000)

            // Two hours later: 12:40 … 14:30 were missed (12 fires each); the window keeps 13:30 … 14:30.
            let second = VirtualClock(milliseconds: t0 + 150 * 60_000)
            let (_, resumed) = try await harness.startScheduler(clock: second, instance: "second")
            try await harness.waitFor(3 + 7, of: "everything")
            try await harness.waitFor(3 + 1, of: "latest")
            try await harness.stop(resumed)
            #expect(harness.messages(of: "skipper").count == 3)
            #expect(harness.messages(of: "latest").last?.id == harness.taskID("latest", "2026-06-01T14:30:00Z"))
            #expect(harness.messages(of: "everything").dropFirst(3).map(\.id) ==
                ["13:30", "13:40", "13:50", "14:00", "14:10", "14:20", "14:30"].map { harness.taskID("everything", "2026-06-01T\($0):00Z") })
        }
    }

    @Test("overlap: skip waits for the previous run's final result; replace cancels it")
    func overlap() async throws {
        try await SchedulerHarness.with(["overlap.yaml": """
            defaults: { queue: QUEUE }
            schedules:
              single~: { every: 1m, task: warren.echo, overlap: skip }
              newest~: { every: 1m, task: warren.echo, overlap: replace }
              many~: { every: 1m, task: warren.echo }
            """]) { harness in
            let t0 = milliseconds("2026-06-01T12:00:00Z")
            let clock = VirtualClock(milliseconds: t0)
            let (scheduler, task) = try await harness.startScheduler(clock: clock)
            clock.fastForward(until: t0 + 2 * 60_000)
            try await harness.waitFor(2, of: "many")
            try await harness.waitFor(2, of: "newest")
            #expect(harness.messages(of: "single").map(\.id) == [harness.taskID("single", "2026-06-01T12:01:00Z")])
            // replace cancelled the first run of `newest` through the cancellation stream.
            let cancelled = try await cancellations(on: harness.connection, matching: "newest\(harness.suffix)@")
            #expect(cancelled == [harness.taskID("newest", "2026-06-01T12:01:00Z")])

            // The first run of `single` finishes: the next fire runs.
            var result = TaskResult(id: harness.taskID("single", "2026-06-01T12:01:00Z"), task: "warren.echo", queue: harness.queue, attempt: 1, status: .succeeded)
            result.schedule = "single" + harness.suffix
            let publisher = try await harness.connection.openChannel(confirms: true)
            let outgoing = try result.outgoing()
            try await publisher.publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey, properties: outgoing.properties)
            try await waitUntil("the scheduler to see the result") { scheduler.tracker.openRun(of: "single" + harness.suffix) == nil }
            clock.fastForward(until: t0 + 3 * 60_000)
            try await harness.waitFor(3, of: "many")
            try await harness.waitFor(2, of: "single")
            // The record follows the fire's confirm; a stop cancels a record still in flight.
            let secondRun = harness.taskID("single", "2026-06-01T12:03:00Z")
            try await waitUntil("the progress record to name the 12:03 run as open", async: {
                try await harness.progress()?.openRuns["single" + harness.suffix]?.taskID == secondRun
            })
            try await harness.stop(task)
            #expect(harness.messages(of: "single").map(\.id) == [harness.taskID("single", "2026-06-01T12:01:00Z"), harness.taskID("single", "2026-06-01T12:03:00Z")])
            #expect(try await harness.progress()?.openRuns["single" + harness.suffix]?.taskID == harness.taskID("single", "2026-06-01T12:03:00Z"))
        }
    }

    @Test("the progress record never covers a fire the broker has not confirmed: an instance stopped while a fire is unconfirmed leaves it to the next, which publishes it")
    func progressAfterConfirms() async throws {
        try await SchedulerHarness.with([:]) { harness in
            // A queue that refuses every publish while full: the fire is nacked and published
            // again (NackRetry), unconfirmed, until the queue has room.
            let channel = try await harness.connection.openChannel(confirms: true)
            let full = harness.queue + ".full"
            _ = try await channel.declare(QueueSpec(name: full, arguments: QueueArguments(maxLength: 1, overflow: .rejectPublish)))
            try await channel.publish(Data("filler".utf8), routingKey: full)
            try harness.write("stuck.yaml", "schedules:\n  stuck~: { every: 1m, task: warren.echo, queue: \(full), catchup: all }\n")
            let t0 = milliseconds("2026-06-01T12:00:00Z")
            let log = LogLines()
            let first = VirtualClock(milliseconds: t0)
            let (_, running) = try await harness.startScheduler(clock: first, instance: "first", logger: log.logger())
            try await waitUntil("the first instance asleep until 12:01") { first.earliestSleep == t0 + 60_000 }
            first.advance(toMilliseconds: t0 + 60_000)
            try await waitUntil("the fire of 12:01 nacked") { log.all.contains { $0.contains("nacked a fire") } }
            try await harness.stop(running)
            let recorded = try await harness.progress()
            #expect(recorded?.watermark == t0, "the record stops before the unconfirmed fire (\(recorded.map { Timestamp.formatUTC(milliseconds: $0.watermark) } ?? "none"))")

            // Room in the queue; the next instance catches the fire up.
            _ = try await channel.purgeQueue(full)
            let later = VirtualClock(milliseconds: t0 + 90_000)
            let (_, second) = try await harness.startScheduler(clock: later, instance: "second")
            try await waitUntil("the fire of 12:01 in \(full)") { try await channel.inspectQueue(full).messageCount == 1 }
            // Asleep until 12:02: the catch-up and the progress record written after it are done.
            try await waitUntil("the second instance asleep until 12:02") { later.earliestSleep == t0 + 120_000 }
            try await harness.stop(second)
            let consumer = try await channel.consume(queue: full)
            let delivery = try #require(try await consumer.firstDelivery(within: .seconds(10)))
            #expect(try TaskMessage(delivery: delivery, queue: full, maxPayload: 1 << 20).id == harness.taskID("stuck", "2026-06-01T12:01:00Z"))
            #expect(try await harness.progress()?.watermark == t0 + 90_000)
            _ = try await channel.deleteQueue(full)
        }
    }

    @Test("a burst of more fires than one batch, built while the batch before awaits its confirms: each fire published once, the progress record covering them all")
    func burst() async throws {
        let count = 2 * Scheduler.ActiveRun.batchLimit + 500
        var text = "defaults: { queue: QUEUE }\nschedules:\n"
        for index in 0..<count { text += "  b\(index)~: { every: 1m, task: warren.echo }\n" }
        try await SchedulerHarness.with(["burst.yaml": text]) { harness in
            let t0 = milliseconds("2026-06-01T12:00:00Z")
            let clock = VirtualClock(milliseconds: t0)
            let (_, running) = try await harness.startScheduler(clock: clock)
            try await waitUntil("asleep until 12:01") { clock.earliestSleep == t0 + 60_000 }
            clock.advance(toMilliseconds: t0 + 60_000)
            try await waitUntil("every fire of 12:01 collected") { harness.messages.count >= count }
            // Asleep until 12:02: the burst and the progress record after it are done.
            try await waitUntil("asleep until 12:02") { clock.earliestSleep == t0 + 120_000 }
            try await harness.stop(running)
            let ids = harness.messages.map(\.id)
            #expect(ids.count == count)
            #expect(Set(ids) == Set((0..<count).map { harness.taskID("b\($0)", "2026-06-01T12:01:00Z") }))
            #expect(try await harness.progress()?.watermark == t0 + 60_000)
        }
    }

    @Test("a fire carries the schedule's queue, priority, expiry and headers")
    func fireMessage() async throws {
        try await SchedulerHarness.with(["fields.yaml": """
            timezone: Europe/Berlin
            schedules:
              fields~: { cron: "0 9 * * *", task: warren.echo, queue: QUEUE, args: { n: 1 }, priority: 8, expires: 30m }
            """]) { harness in
            let t0 = milliseconds("2026-06-01T06:00:00Z")
            let clock = VirtualClock(milliseconds: t0)
            let (_, task) = try await harness.startScheduler(clock: clock)
            clock.fastForward(until: t0 + 3_600_000)
            try await harness.waitFor(1, of: "fields")
            try await harness.stop(task)
            let message = try #require(harness.messages(of: "fields").first)
            #expect(message.id == harness.taskID("fields", "2026-06-01T07:00:00Z"))
            #expect(message.scheduledFor == "2026-06-01T09:00:00+02:00")
            #expect(message.priority == 8)
            #expect(message.args == .object(["n": .integer(1)]))
            #expect(message.expiresAt == Date(timeIntervalSince1970: Double(instant("2026-06-01T07:30:00Z"))))
        }
    }
}

/// Task ids cancelled through the cancellation stream whose id starts with `prefix`.
func cancellations(on connection: Connection, matching prefix: String) async throws -> [String] {
    let channel = try await connection.openChannel(confirms: false)
    try await channel.setPrefetch(1000)
    let consumer = try await channel.consume(queue: WireNames.cancellationStream, arguments: ["x-stream-offset": .string("first")])
    let marker = "test-\(UUID().uuidString)"
    let publisher = try await connection.openChannel(confirms: true)
    try await CancellationStream.append(.marker(marker), on: publisher)
    var ids: [String] = []
    for await delivery in consumer {
        try? delivery.ack()
        switch CancellationRecord(body: delivery.body) {
        case .cancel(let id)? where id.hasPrefix(prefix): ids.append(id)
        case .marker(let seen)? where seen == marker:
            try? await channel.close()
            return ids
        default: break
        }
    }
    return ids
}

/// Collects what is logged through its loggers, for a test to wait on.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    /// Every message logged so far.
    var all: [String] { lines.withLock { $0 } }

    /// A logger whose messages at `level` and above land here.
    func logger(level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: "test.captured") { _ in Handler(lines: self) }
        logger.logLevel = level
        return logger
    }

    private struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.lines.withLock { $0.append("\(event.message)") }
        }
    }
}
