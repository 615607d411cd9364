// The real scheduler with many schedules loaded, each figure beside a baseline in the same run.
// Run by `scripts/bench scheduler`, release build only.
//
//   warren-scheduler-bench spread AMQP_URL [SCHEDULES] [SECONDS]
//       SCHEDULES (default 100000) spread as real ones are: hourly and daily cron jobs at their
//       own minute and second, `every` 1h-6h from their own start. Runs SECONDS (default 120)
//       and prints fire lateness p50/p99/max (publish confirmed - due instant, from the
//       scheduler's own lateness metric) beside a baseline that does the minimum the job needs:
//       the same fires' messages built beforehand, it sleeps to each due instant and publishes
//       that instant's messages as one confirmed batch (half of its time before the scheduler
//       runs, half after), and client CPU per fire.
//   warren-scheduler-bench burst AMQP_URL [SCHEDULES]
//       SCHEDULES (default 100000) all due at the same instant: how long until the last fire is
//       confirmed, beside the client publishing as many task messages in batches of the same size.
//   warren-scheduler-bench cpu
//       No broker: popping and building the messages of 10 minutes of fires of 100000 schedules.
import CoreMetrics
import Cron
import Foundation
import Logging
import RabbitMQ
import Synchronization
import WarrenCore
import WarrenMessaging
import WarrenScheduler

/// User+system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1e6
}

func describe(_ name: String, _ values: [Int64]) -> (p50: Double, p99: Double) {
    let sorted = values.sorted()
    let p50 = percentile(sorted, 0.5), p99 = percentile(sorted, 0.99)
    print(String(format: "%@: %d samples, lateness p50 %.3f ms, p90 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms", name, sorted.count,
                 p50, percentile(sorted, 0.9), percentile(sorted, 0.95), p99, Double(sorted.last ?? 0) / 1e6))
    return (p50, p99)
}

/// Records the scheduler's two lateness timers (confirmed, and handed to the client); every
/// other metric is dropped.
final class LatenessRecorder: MetricsFactory, CounterHandler, RecorderHandler, Sendable {
    final class Samples: TimerHandler, Sendable {
        let values = Mutex<[Int64]>([])
        let recording = Atomic<Bool>(false)
        func recordNanoseconds(_ duration: Int64) {
            if recording.load(ordering: .relaxed) { values.withLock { $0.append(duration) } }
        }
    }
    let confirmed = Samples()
    let sent = Samples()

    func record(_ on: Bool) {
        confirmed.recording.store(on, ordering: .relaxed)
        sent.recording.store(on, ordering: .relaxed)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { self }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { self }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "warren_scheduler_fire_send_lateness_seconds" ? sent : confirmed
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
    func increment(by: Int64) {}
    func reset() {}
    func record(_ value: Int64) {}
    func record(_ value: Double) {}
}

/// A pseudo-random number for schedule `index`, the same in every run.
func spread(_ index: Int, _ salt: Int, _ range: Int) -> Int {
    var value = UInt64(index &* 0x9E37_79B9 &+ salt &* 0x85EB_CA6B)
    value = (value ^ (value >> 29)) &* 0xBF58_476D_1CE4_E5B9
    value ^= value >> 32
    return Int(value % UInt64(range))
}

enum Mix: String {
    /// Hourly and daily cron jobs at their own minute and second; `every` 1h-6h from their own start.
    case spread
    /// Every schedule fires at the same instant, every minute.
    case burst
    /// Cron with a seconds field, `every` 30s-10m from the epoch, a quarter jittered (for `cpu`).
    case dense
}

func generate(directory: String, count: Int, queue: String, mix: Mix) throws {
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
    var index = 0, file = 0
    while index < count {
        var text = "timezone: \(zones[file % zones.count])\ndefaults:\n  queue: \(queue)\nschedules:\n"
        for _ in 0..<min(1000, count - index) {
            text += "  bench-\(index):\n"
            switch mix {
            case .spread:
                let second = spread(index, 1, 60), minute = spread(index, 2, 60)
                switch index % 10 {
                case 0..<4: text += "    cron: \"\(second) \(minute) * * * *\"\n"
                case 4..<7: text += "    cron: \"\(second) \(minute) \(spread(index, 3, 24)) * * *\"\n"
                default:
                    text += "    every: \([1, 2, 3, 6][index % 4])h\n"
                    text += "    start: \(Timestamp.format(1_700_000_000 + Int64(spread(index, 4, 21_600)), in: .utc))\n"
                }
            case .burst:
                text += "    every: 1m\n"
            case .dense:
                if index % 2 == 0 {
                    text += "    every: \(["30s", "1m", "2m", "5m", "10m"][index / 2 % 5])\n"
                } else {
                    text += "    cron: \"\(index % 60) */\([1, 2, 5, 10][index / 2 % 4]) * * * *\"\n"
                }
                if index % 4 == 1 { text += "    jitter: 20s\n" }
            }
            text += "    task: warren.echo\n    args: { id: \(index) }\n"
            index += 1
        }
        try text.write(toFile: "\(directory)/bench-\(file).yaml", atomically: true, encoding: .utf8)
        file += 1
    }
}

/// The fires of `schedules` due in `(after, until]`, grouped by instant, each
/// instant's messages built as the scheduler builds them.
func plannedFires(_ schedules: [ScheduleDefinition], after: Int64, until: Int64) -> [(due: Int64, messages: [OutgoingMessage])] {
    var byName: [String: ScheduleDefinition] = [:]
    for schedule in schedules { byName[schedule.name] = schedule }
    var timeline = FireTimeline()
    timeline.apply(schedules, after: after)
    var plan: [(due: Int64, messages: [OutgoingMessage])] = []
    while let due = timeline.nextDue(), due <= until {
        plan.append((due, timeline.popDue(upTo: due).map { $0.message(of: byName[$0.schedule]!).outgoing() }))
    }
    return plan
}

/// The floor: the scheduler's own instants and batches replayed with nothing else. It sleeps
/// until each instant and publishes that instant's prebuilt messages as one confirmed batch;
/// every message's lateness is the batch's confirm − the instant, as the scheduler measures a fire's.
func baseline(channel: Channel, schedules: [ScheduleDefinition], seconds: Int) async throws -> (lateness: [Int64], woke: [Int64], cpu: Double) {
    let clock = SystemClock()
    let start = clock.millisecondsNow() + 1000
    let plan = plannedFires(schedules, after: start, until: start + Int64(seconds) * 1000)
    var lateness: [Int64] = [], woke: [Int64] = []
    let cpuBefore = cpuSeconds()
    for (due, messages) in plan {
        try await clock.sleep(untilMilliseconds: due)
        woke.append(clock.nanosecondsNow() - due * 1_000_000)
        for result in await channel.publishBatch(messages) { try result.get() }
        let late = clock.nanosecondsNow() - due * 1_000_000
        lateness += Array(repeating: late, count: messages.count)
    }
    return (lateness, woke, cpuSeconds() - cpuBefore)
}

/// Runs a scheduler on `directory` until `body` returns; returns how long it took to load and become active.
func withScheduler(url: String, directory: String, _ body: () async throws -> Void) async throws -> Duration {
    var connection = try ConnectionConfiguration(urls: url, connectionName: "scheduler-bench")
    connection.logger.logLevel = .error
    var logger = Logger(label: "bench.scheduler")
    logger.logLevel = .error
    var configuration = SchedulerConfiguration(connection: connection, schedulesDirectory: directory, instance: "bench", logger: logger)
    configuration.watchFiles = false
    let scheduler = Scheduler(configuration: configuration)
    let loadStart = ContinuousClock.now
    let running = Task { try await scheduler.run() }
    while !scheduler.isActive { try await Task.sleep(for: .milliseconds(10)) }
    let loadTime = ContinuousClock.now - loadStart
    try await body()
    running.cancel()
    _ = try? await running.value
    return loadTime
}

/// The baseline's connection and channel, the task queue declared and no progress left from an earlier run.
func prepareBroker(url: String, queue: String) async throws -> (Connection, Channel) {
    var configuration = try ConnectionConfiguration(urls: url, connectionName: "scheduler-bench-baseline")
    configuration.logger.logLevel = .error
    let connection = try await Connection.open(configuration)
    let setup = try await connection.openChannel(confirms: true)
    try await WarrenTopology.declareShared(on: setup, queueType: .classic)
    try await WarrenTopology.declareTaskQueue(queue, options: TaskQueueOptions(), on: setup)
    _ = try await setup.deleteQueue(SchedulerNames.progressQueue)
    return (connection, setup)
}

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : ""
let recorder = LatenessRecorder()
MetricsSystem.bootstrap(recorder)
let queue = "bench.scheduler"
let directory = "/tmp/warren-scheduler-bench"
defer { try? FileManager.default.removeItem(atPath: directory) }

switch mode {
case "cpu":
    try generate(directory: directory, count: 100_000, queue: "q", mix: .dense)
    let schedules = try ScheduleDirectory.load(directory).schedules
    var timeline = FireTimeline()
    let start: Int64 = 1_800_000_000_000
    timeline.apply(schedules, after: start)
    var byName: [String: ScheduleDefinition] = [:]
    for schedule in schedules { byName[schedule.name] = schedule }
    var popped = 0, bytes = 0
    var popTime = Duration.zero, buildTime = Duration.zero
    while let due = timeline.nextDue(), due <= start + 600_000 {
        let p0 = ContinuousClock.now
        let fires = timeline.popDue(upTo: due)
        let p1 = ContinuousClock.now
        for fire in fires { bytes += fire.message(of: byName[fire.schedule]!).outgoing().body.count }
        buildTime += ContinuousClock.now - p1
        popTime += p1 - p0
        popped += fires.count
    }
    print("fires \(popped) (\(bytes) body bytes): pop \(popTime / popped) per fire, message \(buildTime / popped) per fire")

case "spread" where arguments.count > 2:
    let url = arguments[2]
    let count = arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000
    let seconds = arguments.count > 4 ? Int(arguments[4]) ?? 120 : 120
    try generate(directory: directory, count: count, queue: queue, mix: .spread)
    let (connection, setup) = try await prepareBroker(url: url, queue: queue)
    let schedules = try ScheduleDirectory.load(directory).schedules
    let before = try await baseline(channel: setup, schedules: schedules, seconds: seconds / 2)
    _ = try await setup.purgeQueue(queue)
    var cpu = 0.0
    let loadTime = try await withScheduler(url: url, directory: directory) {
        try await Task.sleep(for: .seconds(2))  // start-up work settles
        recorder.record(true)
        let before = cpuSeconds()
        try await Task.sleep(for: .seconds(seconds))
        recorder.record(false)
        cpu = cpuSeconds() - before
    }
    _ = try await setup.purgeQueue(queue)
    let after = try await baseline(channel: setup, schedules: schedules, seconds: seconds - seconds / 2)
    _ = try await setup.deleteQueue(queue)
    await connection.close()
    let fires = recorder.confirmed.values.withLock { $0 }
    let baselineLateness = before.lateness + after.lateness
    let baselineCPU = (before.cpu + after.cpu) / Double(max(baselineLateness.count, 1))
    print("\(count) schedules (hourly and daily cron, every 1h-6h) loaded and active in \(loadTime)")
    let base = describe("baseline (the same instants and batches, prebuilt, sleep + one confirmed batch each)", baselineLateness)
    let measured = describe("scheduler, \(seconds) s", fires)
    _ = describe("  of which: due instant to handing the publish to the client", recorder.sent.values.withLock { $0 })
    _ = describe("  baseline: due instant to waking (one sample per instant)", before.woke + after.woke)
    print(String(format: "fires: %d (%.1f/s); client CPU per fire %.1f µs (baseline %.1f µs)",
                 fires.count, Double(fires.count) / Double(seconds), cpu / Double(max(fires.count, 1)) * 1e6, baselineCPU * 1e6))
    print(String(format: "ratios: p50=%.2f p99=%.2f  (scheduler/baseline lateness)", measured.p50 / base.p50, measured.p99 / base.p99))

case "burst" where arguments.count > 2:
    let url = arguments[2]
    let count = arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000
    try generate(directory: directory, count: count, queue: queue, mix: .burst)
    let (connection, setup) = try await prepareBroker(url: url, queue: queue)
    // Baseline: the same number of task messages, built and published in batches of the same size.
    let baselineStart = ContinuousClock.now
    let baselineCPUStart = cpuSeconds()
    var sent = 0
    while sent < count {
        let batch = (sent..<min(count, sent + 2000)).map { TaskMessage(id: "bench-\($0)@x", task: "warren.echo", args: .object(["id": .integer(Int64($0))]), queue: queue).outgoing() }
        _ = await setup.publishBatch(batch)
        sent += batch.count
    }
    let baselineTime = ContinuousClock.now - baselineStart
    let baselineCPU = (cpuSeconds() - baselineCPUStart) / Double(count)
    _ = try await setup.purgeQueue(queue)
    var cpu = 0.0
    let loadTime = try await withScheduler(url: url, directory: directory) {
        recorder.record(true)
        let before = cpuSeconds()
        while recorder.confirmed.values.withLock({ $0.count }) < count { try await Task.sleep(for: .milliseconds(100)) }
        cpu = cpuSeconds() - before
    }
    _ = try await setup.deleteQueue(queue)
    await connection.close()
    let fires = recorder.confirmed.values.withLock { $0 }.sorted()
    let last = Double(fires.last ?? 0) / 1e9
    print("\(count) schedules due at the same instant, loaded and active in \(loadTime)")
    print(String(format: "baseline (client publishBatch of %d task messages): %.3f s, %.0f msgs/s, CPU %.1f µs/msg",
                 count, Double(baselineTime.components.seconds) + Double(baselineTime.components.attoseconds) / 1e18,
                 Double(count) / (Double(baselineTime.components.seconds) + Double(baselineTime.components.attoseconds) / 1e18), baselineCPU * 1e6))
    print(String(format: "scheduler: first fire confirmed %.1f ms after the due instant, last %.3f s: %.0f fires/s; CPU %.1f µs/fire (includes idle waiting)",
                 Double(fires.first ?? 0) / 1e6, last, Double(count) / last, cpu / Double(count) * 1e6))
    let baselineSeconds = Double(baselineTime.components.seconds) + Double(baselineTime.components.attoseconds) / 1e18
    print(String(format: "ratios: burst=%.2f  (scheduler/baseline throughput)", baselineSeconds / last))

default:
    print("usage: warren-scheduler-bench spread AMQP_URL [SCHEDULES] [SECONDS] | burst AMQP_URL [SCHEDULES] | cpu")
    exit(2)
}
