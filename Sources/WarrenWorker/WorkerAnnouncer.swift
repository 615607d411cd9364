import Foundation
import Logging
import RabbitMQ
import Synchronization
import WarrenCore
import WarrenMessaging

/// Announces the worker on `warren.workers` every `interval` (`WorkerAnnouncement`): at start,
/// then steadily, and once more as `stopping` on a graceful stop, on a connection of its own
/// (see `SideConnection`: nothing that goes wrong with Warren's auxiliary streams can touch the
/// connections tasks and results travel on). On each new connection it declares the streams
/// and appends its queues to `warren.queues` (`QueueRegistry`). A failed announcement (the
/// connection is down) is retried at the next tick on a fresh connection; announcing never
/// holds up tasks.
struct WorkerAnnouncer: Sendable {
    /// The worker's broker settings; the announcer's connection is named `warren-worker-announce`.
    let configuration: ConnectionConfiguration
    let name: String
    let queues: [String]
    let interval: Duration
    let metrics: WorkerMetrics
    let limiter: ConcurrencyLimiter
    let logger: Logger

    /// How often the share of slots in use is sampled, and how many samples make the minute.
    static let sampleEvery: Duration = .seconds(1)
    static let samples = 60

    func announcement(stopping: Bool = false, busy: Double = 0) -> WorkerAnnouncement {
        var announcement = WorkerAnnouncement(
            worker: name, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
            version: WarrenVersion.number, queues: queues, concurrency: limiter.snapshot.limit,
            running: metrics.runningTasks, finished: metrics.finishedTasks,
            unsettled: metrics.unsettledPerQueue.filter { $0.value != 0 }, at: Date(),
            intervalMs: Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000),
            stopping: stopping)
        announcement.busy = busy
        announcement.runningTasks = metrics.runningNow(limit: 20)
        return announcement
    }

    /// Samples the slots in use every second (`warren_worker_busy_ratio`, the mean over the
    /// last minute) and announces every `interval`, until cancelled.
    func run() async {
        var open: (connection: Connection, channel: Channel)?
        var failures = 0
        var busy = BusyWindow(size: Self.samples)
        var nextAnnouncement = ContinuousClock.now
        while !Task.isCancelled {
            busy.add(Double(metrics.runningTasks) / Double(max(1, limiter.snapshot.limit)))
            metrics.busy(busy.mean)
            if ContinuousClock.now >= nextAnnouncement {
                nextAnnouncement = .now + interval
                do {
                    let current: (connection: Connection, channel: Channel)
                    if let open {
                        current = open
                    } else {
                        current = try await connect()
                    }
                    open = current
                    try await WorkerAnnouncements.publish(announcement(busy: busy.mean), on: current.channel)
                    failures = 0
                } catch {
                    if let stale = open { await stale.connection.close() }
                    open = nil
                    failures += 1
                    if failures == 1 { logger.warning("cannot announce the worker on \(WireNames.workersStream): \(error)") }
                }
            }
            guard (try? await Task.sleep(for: min(Self.sampleEvery, interval))) != nil else { break }
        }
        if let open { await open.connection.close() }
    }

    /// A new connection with the streams declared and this worker's queues recorded.
    private func connect() async throws -> (connection: Connection, channel: Channel) {
        var settings = configuration
        settings.connectionName = "warren-worker-announce"
        settings.reconnect.enabled = false
        let connection = try await Connection.open(settings)
        do {
            let channel = try await connection.openChannel(confirms: false)
            try await WorkerAnnouncements.declare(on: channel)
            try await QueueRegistry.record(queues, on: connection)
            return (connection, channel)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The last announcement: the worker is stopping. Best effort and bounded: a broker that
    /// blocks publishers (a resource alarm) answers nothing on this connection, not even a
    /// channel's opening, so the announcement is left behind after `limit` (readers then see
    /// the worker gone after three missed announcements) and never holds up the worker's exit.
    func farewell(limit: Duration = .seconds(1)) async {
        let configuration = self.configuration
        let goodbye = announcement(stopping: true)
        let sent = Atomic<Bool>(false)
        let sending = Task {
            _ = await SideConnection.with(configuration, name: "warren-worker-announce") { connection in
                let channel = try await connection.openChannel(confirms: false)
                try await WorkerAnnouncements.publish(goodbye, on: channel)
            }
            sent.store(true, ordering: .releasing)
        }
        let deadline = ContinuousClock.now + limit
        while !sent.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        sending.cancel()
    }
}

/// The mean of the last `size` samples.
struct BusyWindow {
    private var values: [Double] = []
    private var next = 0
    let size: Int

    init(size: Int) { self.size = size }

    mutating func add(_ value: Double) {
        if values.count < size {
            values.append(value)
        } else {
            values[next] = value
            next = (next + 1) % size
        }
    }

    var mean: Double { values.isEmpty ? 0 : min(1, values.reduce(0, +) / Double(values.count)) }
}

