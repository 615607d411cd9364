import Cron
import Foundation
import WarrenCore

/// One fire of a schedule: the instant it is for, when it is due (that instant plus its jitter)
/// and the task id every scheduler instance derives for it.
public struct Fire: Sendable, Hashable {
    public let schedule: String
    /// The scheduled instant, seconds since the epoch (`x-warren-scheduled-for`).
    public let scheduledFor: Int64
    /// When it is published: the scheduled instant plus its jitter, in milliseconds.
    public let due: Int64
    /// `catchup` for a fire published late by the catch-up policy (`x-warren-trigger`); nil for
    /// a fire published when due.
    public var trigger: String?

    public init(schedule: String, scheduledFor: Int64, jitter: Duration) {
        self.schedule = schedule
        self.scheduledFor = scheduledFor
        self.due = scheduledFor * 1000 + Fire.jitterMilliseconds(schedule: schedule, scheduledFor: scheduledFor, jitter: jitter)
    }

    /// `NAME@2026-03-08T10:00:00Z`: the same for every instance and every retry of the publish.
    public var taskID: String { Fire.taskID(schedule: schedule, scheduledFor: scheduledFor) }

    public static func taskID(schedule: String, scheduledFor: Int64) -> String {
        ScheduleDefinition.fireTaskID(schedule: schedule, scheduledFor: scheduledFor)
    }

    /// The delay in [0, jitter] added to this fire, in milliseconds: a hash of the schedule name
    /// and the instant, so every instance (and a standby after failover) picks the same delay.
    public static func jitterMilliseconds(schedule: String, scheduledFor: Int64, jitter: Duration) -> Int64 {
        let (seconds, attoseconds) = jitter.components
        let range = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard range > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in schedule.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var instant = UInt64(bitPattern: scheduledFor)
        for _ in 0..<8 {
            hash = (hash ^ (instant & 0xff)) &* 0x0000_0100_0000_01b3
            instant >>= 8
        }
        // SplitMix64 finaliser spreads the low bits.
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Int64(hash % UInt64(range + 1))
    }

    /// The task message for this fire of `schedule`.
    public func message(of schedule: ScheduleDefinition) -> TaskMessage {
        var expiresAt: Date?
        if let expires = schedule.expires {
            let (seconds, attoseconds) = expires.components
            expiresAt = Date(timeIntervalSince1970: Double(due) / 1000 + Double(seconds) + Double(attoseconds) / 1e18)
        }
        return schedule.fireMessage(for: scheduledFor, expiresAt: expiresAt, trigger: trigger)
    }
}
