import Foundation
import Logging
import RabbitMQ
import Synchronization
import WarrenCore
import WarrenMessaging

/// Announces the worker on `warren.workers` every `interval` (`WorkerAnnouncement`): at start,
/// then steadily, and once more as `stopping` on a graceful stop. A failed announcement (the
/// connection is down) is retried at the next tick on a fresh channel; announcing never holds
/// up tasks.
struct WorkerAnnouncer: Sendable {
    let connection: Connection
    let name: String
    let queues: [String]
    let interval: Duration
    let metrics: WorkerMetrics
    let limiter: ConcurrencyLimiter
    let logger: Logger

    func announcement(stopping: Bool = false) -> WorkerAnnouncement {
        WorkerAnnouncement(worker: name, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
                           version: WarrenVersion.number, queues: queues, concurrency: limiter.snapshot.limit,
                           running: metrics.runningTasks, finished: metrics.finishedTasks,
                           unsettled: metrics.unsettledPerQueue.filter { $0.value != 0 }, at: Date(),
                           intervalMs: Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000),
                           stopping: stopping)
    }

    /// Announces until cancelled.
    func run() async {
        var channel: Channel?
        var failures = 0
        while !Task.isCancelled {
            do {
                let current: Channel
                if let channel {
                    current = channel
                } else {
                    current = try await connection.openChannel(confirms: false)
                }
                try await WorkerAnnouncements.publish(announcement(), on: current, declare: channel == nil)
                channel = current
                failures = 0
            } catch {
                channel = nil
                failures += 1
                if failures == 1 { logger.warning("cannot announce the worker on \(WireNames.workersStream): \(error)") }
            }
            guard (try? await Task.sleep(for: interval)) != nil else { break }
        }
        if let channel { try? await channel.close() }
    }

    /// The last announcement: the worker is stopping. Best effort and bounded: a broker that
    /// blocks publishers (a resource alarm) answers nothing on this connection, not even a
    /// channel's opening, so the announcement is left behind after `limit` (readers then see
    /// the worker gone after three missed announcements) and never holds up the worker's exit.
    func farewell(limit: Duration = .seconds(1)) async {
        let connection = self.connection
        let goodbye = announcement(stopping: true)
        let sent = Atomic<Bool>(false)
        let sending = Task {
            if let channel = try? await connection.openChannel(confirms: false) {
                try? await WorkerAnnouncements.publish(goodbye, on: channel, declare: false)
                try? await channel.close()
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
