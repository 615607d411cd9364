// Fire lateness of the real scheduler with many schedules loaded, beside a baseline in the same
// run: a bare loop that sleeps until a deadline and publishes one confirmed message (the floor
// any scheduler on this broker pays). Run by `scripts/bench scheduler`, release build only.
//
//   warren-scheduler-bench AMQP_URL [SCHEDULES] [SECONDS]
//
// Generates SCHEDULES schedules (default 100000; half cron with a seconds field, half `every`,
// intervals of 30 s to 10 min, a quarter with jitter), runs the scheduler on them for SECONDS
// (default 60) and prints load time, fires, lateness p50/p99/max (publish confirmed − due
// instant, from the scheduler's own lateness metric), client CPU per fire, and the ratios.
import CoreMetrics
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
    print(String(format: "%@: %d samples, lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms", name, sorted.count, p50, p99,
                 Double(sorted.last ?? 0) / 1e6))
    return (p50, p99)
}

/// Records the scheduler's lateness timer and counts published fires; everything else is dropped.
final class LatenessRecorder: MetricsFactory, TimerHandler, CounterHandler, RecorderHandler, Sendable {
    let samples = Mutex<[Int64]>([])
    let recording = Atomic<Bool>(false)

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { self }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { self }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { self }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    func recordNanoseconds(_ duration: Int64) {
        if recording.load(ordering: .relaxed) { samples.withLock { $0.append(duration) } }
    }
    func increment(by: Int64) {}
    func reset() {}
    func record(_ value: Int64) {}
    func record(_ value: Double) {}
}

func generate(directory: String, count: Int, queue: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
    let intervals = ["30s", "1m", "2m", "5m", "10m"]
    let minuteSteps = [1, 2, 5, 10]
    var index = 0, file = 0
    while index < count {
        var text = "timezone: \(zones[file % zones.count])\ndefaults:\n  queue: \(queue)\nschedules:\n"
        for _ in 0..<min(1000, count - index) {
            text += "  bench-\(index):\n"
            if index % 2 == 0 {
                text += "    every: \(intervals[index / 2 % intervals.count])\n"
            } else {
                text += "    cron: \"\(index % 60) */\(minuteSteps[index / 2 % minuteSteps.count]) * * * *\"\n"
            }
            if index % 4 == 1 { text += "    jitter: 20s\n" }
            text += "    task: warren.echo\n    args: { id: \(index) }\n"
            index += 1
        }
        try text.write(toFile: "\(directory)/bench-\(file).yaml", atomically: true, encoding: .utf8)
        file += 1
    }
}

/// The floor: sleep until each deadline (every 20 ms) and publish one confirmed persistent message.
func baseline(channel: Channel, queue: String, count: Int) async throws -> (lateness: [Int64], cpuPerPublish: Double) {
    let clock = SystemClock()
    var lateness: [Int64] = []
    let body = Data(TaskMessage(task: "warren.echo", queue: queue).body)
    let cpuBefore = cpuSeconds()
    var deadline = clock.millisecondsNow() / 20 * 20 + 40
    for _ in 0..<count {
        try await clock.sleep(untilMilliseconds: deadline)
        try await channel.publish(body, exchange: WireNames.tasksExchange, routingKey: queue,
                                  properties: BasicProperties(contentType: "application/json", deliveryMode: 2), mandatory: true)
        lateness.append(clock.nanosecondsNow() - deadline * 1_000_000)
        deadline += 20
    }
    return (lateness, (cpuSeconds() - cpuBefore) / Double(count))
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: warren-scheduler-bench AMQP_URL [SCHEDULES] [SECONDS]")
    exit(2)
}
let url = arguments[1]
let count = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
let seconds = arguments.count > 3 ? Int(arguments[3]) ?? 60 : 60
let recorder = LatenessRecorder()
MetricsSystem.bootstrap(recorder)

let queue = "bench.scheduler"
let directory = "/tmp/warren-scheduler-bench"
try? FileManager.default.removeItem(atPath: directory)
try generate(directory: directory, count: count, queue: queue)

var configuration = try ConnectionConfiguration(urls: url, connectionName: "scheduler-bench")
configuration.logger.logLevel = .error
let connection = try await Connection.open(configuration)
let setup = try await connection.openChannel(confirms: true)
try await WarrenTopology.declareShared(on: setup)
try await WarrenTopology.declareTaskQueue(queue, options: TaskQueueOptions(), on: setup)
_ = try await setup.deleteQueue(SchedulerNames.progressQueue)
let (baselineLateness, baselineCPU) = try await baseline(channel: setup, queue: queue, count: 1000)
_ = try await setup.purgeQueue(queue)

var logger = Logger(label: "bench.scheduler")
logger.logLevel = .error
var schedulerConfiguration = SchedulerConfiguration(connection: configuration, schedulesDirectory: directory, instance: "bench", logger: logger)
schedulerConfiguration.watchFiles = false
let scheduler = Scheduler(configuration: schedulerConfiguration)
let loadStart = ContinuousClock.now
let running = Task { try await scheduler.run() }
while !scheduler.isActive { try await Task.sleep(for: .milliseconds(10)) }
let loadTime = ContinuousClock.now - loadStart
// Measure from the next whole second, after start-up work has settled.
try await Task.sleep(for: .seconds(2))
recorder.recording.store(true, ordering: .relaxed)
let cpuBefore = cpuSeconds()
try await Task.sleep(for: .seconds(seconds))
recorder.recording.store(false, ordering: .relaxed)
let cpu = cpuSeconds() - cpuBefore
running.cancel()
_ = try? await running.value
_ = try await setup.deleteQueue(queue)
await connection.close()

let fires = recorder.samples.withLock { $0 }
print("schedules: \(count) loaded and active in \(loadTime)")
let base = describe("baseline (sleep to deadline + one confirmed publish)", baselineLateness)
let measured = describe("scheduler (\(count) schedules, \(seconds) s)", fires)
print(String(format: "fires: %d (%.0f/s); client CPU per fire %.1f µs (baseline per publish %.1f µs)",
             fires.count, Double(fires.count) / Double(seconds), cpu / Double(max(fires.count, 1)) * 1e6, baselineCPU * 1e6))
print(String(format: "ratios: p50=%.2f p99=%.2f  (scheduler/baseline lateness)", measured.p50 / base.p50, measured.p99 / base.p99))
try? FileManager.default.removeItem(atPath: directory)
