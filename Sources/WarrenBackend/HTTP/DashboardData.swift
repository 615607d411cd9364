import Cron
import Foundation
import Synchronization
import WarrenCore
import WarrenMessaging
import WarrenStore

/// `GET /api/dashboard`: what the dashboard shows, in one JSON object.
struct DashboardData: Sendable {
    let store: any ResultStore
    let broker: TaskSubmitter
    let schedules: ScheduleCache
    /// Runtime pauses (nil when the broker could not be read).
    let runtime: ScheduleRuntimeState?
    /// The viewer's role: `admin`, `read`, `open` (no token configured).
    let viewer: String
    /// The watched schedules' last evaluation (`alert_after`, `alert_failures`).
    var health: [String: ScheduleHealth] = [:]

    /// Runs per minute over the last hour (every minute present), each schedule's last run and
    /// next fire, recent failures, queue depths, the live workers, dead letters and delayed tasks.
    func json(now: Date = Date()) async throws -> JSONValue {
        let hourAgo = now.addingTimeInterval(-3600)
        let nowMs = now.millisecondsSince1970
        let firstMinute = (nowMs / 60_000 - 59) * 60_000
        let counted = Dictionary(uniqueKeysWithValues: try await store.runsPerMinute(since: Date(timeIntervalSince1970: Double(firstMinute) / 1000))
            .map { ($0.minuteMs, $0) })
        let minutes: [JSONValue] = (0..<60).map { index in
            let minute = firstMinute + Int64(index) * 60_000
            let counts = counted[minute]
            return .object(["minute": .string(TaskResult.timestamp(Date(timeIntervalSince1970: Double(minute) / 1000))),
                            "succeeded": .integer(Int64(counts?.succeeded ?? 0)), "failed": .integer(Int64(counts?.failed ?? 0)),
                            "cancelled": .integer(Int64(counts?.cancelled ?? 0))])
        }
        let declared = schedules.current()
        var names = declared.map(\.name)
        for name in try await store.schedules(since: now.addingTimeInterval(-7 * 86_400)) where !names.contains(name) { names.append(name) }
        var scheduleRows: [JSONValue] = []
        for name in names {
            let definition = declared.first { $0.name == name }
            let last = try await store.list(ResultQuery(schedule: name, limit: 1)).first
            let next = definition.flatMap { schedule in
                schedule.timetable.nextFire(after: Int64(now.timeIntervalSince1970)).map { Timestamp.format($0, in: schedule.zone) }
            }
            scheduleRows.append(.object([
                "name": .string(name), "task": definition.map { .string($0.task) } ?? last.map { .string($0.task) } ?? .null,
                "queue": definition.map { .string($0.queue) } ?? .null, "paused": definition.map { .bool($0.paused) } ?? .null,
                "next_fire": next.map(JSONValue.string) ?? .null, "last": last.map(Self.value) ?? .null,
                "runtime_pause": BackendHTTPServer.pauseJSON(runtime?.currentPause(of: name, at: nowMs)),
                "health": health[name].map(\.json) ?? .null,
            ]))
        }
        var failures: [TaskResult] = []
        for status in [ResultStatus.failed, .timedOut, .rejected, .expired, .cancelled] {
            failures += try await store.list(ResultQuery(status: status, since: now.addingTimeInterval(-86_400), limit: 10))
        }
        failures.sort { ($0.finishedAt ?? "") > ($1.finishedAt ?? "") }
        var queueNames = [WireNames.defaultQueue]
        for queue in declared.map(\.queue) where !queueNames.contains(queue) { queueNames.append(queue) }
        let chain = DelayChain.queues
        let inspected = (try? await broker.inspect(queueNames + [WireNames.resultsQueue, WireNames.deadLetterQueue] + chain)) ?? []
        let queues: [JSONValue] = inspected.filter { !chain.contains($0.name) }.map { entry in
            .object(["name": .string(entry.name), "exists": .bool(entry.state != nil),
                     "ready": entry.state.map { .integer(Int64($0.messageCount)) } ?? .null,
                     "consumers": entry.state.map { .integer(Int64($0.consumerCount)) } ?? .null])
        }
        let workers = await WorkerAnnouncements.alive(broker.configuration, now: now) ?? []
        let deadLetters = inspected.first { $0.name == WireNames.deadLetterQueue }?.state?.messageCount
        let delayed = inspected.isEmpty ? nil : inspected.filter { chain.contains($0.name) }.reduce(0) { $0 + ($1.state?.messageCount ?? 0) }
        return .object([
            "generated_at": .string(TaskResult.timestamp(now)), "viewer": .string(viewer), "since": .string(TaskResult.timestamp(hourAgo)),
            "runs_per_minute": .array(minutes), "schedules": .array(scheduleRows),
            "failures": .array(failures.prefix(10).map(Self.value)), "queues": .array(queues), "workers": .array(workers.map(\.json)),
            "dead_letters": deadLetters.map { .integer(Int64($0)) } ?? .null, "delayed": delayed.map { .integer(Int64($0)) } ?? .null,
        ])
    }

    static func value(_ result: TaskResult) -> JSONValue {
        (try? JSONText.parse(result.jsonData())) ?? .null
    }
}

/// The schedule files' schedules, read again at most every 30 s.
final class ScheduleCache: Sendable {
    private let directory: String?
    private let cached = Mutex<(at: Date, set: ScheduleSet)?>(nil)

    init(directory: String?) {
        self.directory = directory
    }

    func current() -> [ScheduleDefinition] { set().schedules }

    /// The workflow `name` the files declare (`POST /api/tasks` starts a run of it).
    func workflow(named name: String) -> WorkflowDefinition? { set().workflow(named: name) }

    private func set() -> ScheduleSet {
        guard let directory else { return ScheduleSet() }
        if let cached = cached.withLock({ $0 }), Date().timeIntervalSince(cached.at) < 30 { return cached.set }
        let set = (try? ScheduleDirectory.load(directory)) ?? ScheduleSet()
        cached.withLock { $0 = (Date(), set) }
        return set
    }
}
