import Foundation
import RabbitMQ
import WarrenCore

/// The schedule operations of SPEC §6, each recorded in the schedule state stream with who gave
/// it (docs/schedules.md, "Operating schedules").
extension TaskClient {
    /// What a pause or resume did.
    public enum Change: Sendable, Equatable {
        /// Recorded; the active scheduler applies it within a second.
        case applied
        /// The state already was so: nothing was recorded (the same command twice is one change).
        case unchanged
    }

    /// Pauses `schedule` until resumed, or until `until` (milliseconds since the epoch).
    public func pause(_ schedule: String, until: Int64? = nil, reason: String? = nil) async throws -> Change {
        try await record(ScheduleCommand(.pause, schedule: schedule, until: until, reason: reason, by: actor, at: Date().millisecondsSince1970))
    }

    /// Resumes `schedule` from its next instant; fires during the pause are not caught up.
    public func resume(_ schedule: String) async throws -> Change {
        try await record(ScheduleCommand(.resume, schedule: schedule, by: actor, at: Date().millisecondsSince1970))
    }

    private func record(_ command: ScheduleCommand) async throws -> Change {
        let state = try await ScheduleStreams.readState(on: connection)
        guard state.changes(command) else { return .unchanged }
        try await ScheduleStreams.append(command, on: channel())
        return .applied
    }

    /// Publishes one run of `schedule` now, outside its rhythm (`x-warren-trigger: manual`),
    /// attributed to it; with `args` instead of the schedule's. The task id is `id`, or
    /// `NAME@manual-<instant>`: giving the same `id` again is the same task. Returns the id.
    public func trigger(_ schedule: ScheduleDefinition, args: JSONValue? = nil, id: String? = nil) async throws -> String {
        let now = Date().millisecondsSince1970
        var message = TaskMessage(id: id ?? "\(schedule.name)@manual-\(TaskResult.timestamp(Date(timeIntervalSince1970: Double(now) / 1000)))", task: schedule.task,
                                  args: args ?? schedule.args, queue: schedule.queue, priority: schedule.priority,
                                  schedule: schedule.name, trigger: "manual")
        message.expiresAt = Self.expiry(of: schedule, from: now)
        try await publish([message], of: schedule)
        try await appendRecord(ScheduleCommand(.trigger, schedule: schedule.name, by: actor, at: now, taskIDs: [message.id]))
        return message.id
    }

    /// Publishes the fires of `schedule` for `instants` (seconds), in order, with the task ids of
    /// regular fires (`x-warren-trigger: backfill`), and records them; see `BackfillPlan`.
    public func backfill(_ schedule: ScheduleDefinition, instants: [Int64]) async throws {
        guard !instants.isEmpty else { return }
        let now = Date().millisecondsSince1970
        let expiresAt = Self.expiry(of: schedule, from: now)
        let messages = instants.map { schedule.fireMessage(for: $0, expiresAt: expiresAt, trigger: "backfill") }
        try await publish(messages, of: schedule)
        try await appendRecord(ScheduleCommand(.backfill, schedule: schedule.name, by: actor, at: now, taskIDs: messages.map(\.id)))
    }

    /// Task ids published by earlier backfills of `schedule`.
    public func backfilledIDs(of schedule: String) async throws -> Set<String> {
        try await ScheduleStreams.readState(on: connection).backfilled[schedule] ?? []
    }

    private func publish(_ messages: [TaskMessage], of schedule: ScheduleDefinition) async throws {
        try await ensureQueue(schedule.queue, priority: schedule.priority)
        let channel = try await channel()
        for result in await channel.publishBatch(messages.map { $0.outgoing() }) {
            try result.get()
        }
    }

    private func appendRecord(_ command: ScheduleCommand) async throws {
        let setup = try await connection.openChannel(confirms: false)
        try await ScheduleStreams.declare(on: setup)
        try? await setup.close()
        try await ScheduleStreams.append(command, on: channel())
    }

    /// A manual or backfilled run's expiry counts from when it is published, not from the
    /// (possibly long past) instant it is for.
    private static func expiry(of schedule: ScheduleDefinition, from now: Int64) -> Date? {
        schedule.expires.map { Date(timeIntervalSince1970: Double(now) / 1000) + $0.seconds }
    }

}
