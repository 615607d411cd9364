import Foundation

/// What a worker says about itself at a steady interval on the stream `warren.workers`
/// (docs/protocol.md, "Worker announcements"): who it is, what it consumes and how much of it
/// it holds. A worker whose last announcement is older than `goneAfter` is gone.
public struct WorkerAnnouncement: Sendable, Equatable {
    /// The worker's name (`--name`, default `host:pid`).
    public var worker: String
    public var host: String
    public var pid: Int
    public var version: String
    public var queues: [String]
    /// Tasks it runs at once now (its autoscaled limit when autoscaling).
    public var concurrency: Int
    /// Tasks running now.
    public var running: Int
    /// Results it published since it started (final ones and retries).
    public var finished: Int
    /// Deliveries it holds unacknowledged, per queue: running, or waiting for a slot.
    public var unsettled: [String: Int]
    public var at: Date
    /// How often it announces, in milliseconds.
    public var intervalMs: Int
    /// Its last announcement, on a graceful stop: gone at once.
    public var stopping = false
    /// The share of its slots in use over the last minute, 0…1 (sampled every second).
    public var busy: Double = 0
    /// What it runs now (tasks that take time; the longest running first, at most 20).
    public var runningTasks: [RunningTask] = []

    /// A task a worker is running.
    public struct RunningTask: Sendable, Equatable {
        public var id: String
        public var task: String
        public var attempt: Int
        public var since: Date

        public init(id: String, task: String, attempt: Int, since: Date) {
            self.id = id
            self.task = task
            self.attempt = attempt
            self.since = since
        }

        var json: JSONValue {
            .object(["id": .string(id), "task": .string(task), "attempt": .integer(Int64(attempt)),
                     "since": .string(TaskResult.timestamp(since))])
        }

        init?(json: JSONValue) {
            guard case .string(let id)? = json["id"], case .string(let task)? = json["task"],
                  case .integer(let attempt)? = json["attempt"], let since = json["since"]?.stringValue.flatMap(TaskResult.parseTimestamp)
            else { return nil }
            self.init(id: id, task: task, attempt: Int(attempt), since: since)
        }
    }

    public init(worker: String, host: String, pid: Int, version: String, queues: [String], concurrency: Int, running: Int,
                finished: Int, unsettled: [String: Int], at: Date, intervalMs: Int, stopping: Bool = false) {
        self.worker = worker
        self.host = host
        self.pid = pid
        self.version = version
        self.queues = queues
        self.concurrency = concurrency
        self.running = running
        self.finished = finished
        self.unsettled = unsettled
        self.at = at
        self.intervalMs = intervalMs
        self.stopping = stopping
    }

    /// Missed announcements after which a worker is shown gone.
    public static let missedBeforeGone = 3

    /// When, without a newer announcement, this worker counts as gone.
    public var goneAfter: Date { at.addingTimeInterval(Double(intervalMs * Self.missedBeforeGone) / 1000) }

    /// Whether the worker is alive at `now` by this announcement.
    public func isAlive(at now: Date) -> Bool { !stopping && now < goneAfter }

    public var json: JSONValue {
        .object([
            "worker": .string(worker), "host": .string(host), "pid": .integer(Int64(pid)), "version": .string(version),
            "queues": .array(queues.map(JSONValue.string)), "concurrency": .integer(Int64(concurrency)),
            "running": .integer(Int64(running)), "finished": .integer(Int64(finished)),
            "unsettled": .object(unsettled.mapValues { .integer(Int64($0)) }),
            "at": .string(TaskResult.timestamp(at)), "interval_ms": .integer(Int64(intervalMs)), "stopping": .bool(stopping),
            "busy": .number(busy), "running_tasks": .array(runningTasks.map(\.json)),
        ])
    }

    /// Reads an announcement; nil for anything else.
    public init?(json: JSONValue) {
        guard case .string(let worker)? = json["worker"], case .string(let at)? = json["at"], let instant = TaskResult.parseTimestamp(at),
              case .integer(let interval)? = json["interval_ms"], interval > 0 else { return nil }
        func integer(_ key: String) -> Int {
            if case .integer(let value)? = json[key] { return Int(value) }
            return 0
        }
        var unsettled: [String: Int] = [:]
        if case .object(let fields)? = json["unsettled"] {
            for (queue, value) in fields { if case .integer(let count) = value { unsettled[queue] = Int(count) } }
        }
        var queues: [String] = []
        if case .array(let values)? = json["queues"] { queues = values.compactMap(\.stringValue) }
        self.init(worker: worker, host: json["host"]?.stringValue ?? "", pid: integer("pid"), version: json["version"]?.stringValue ?? "",
                  queues: queues, concurrency: integer("concurrency"), running: integer("running"), finished: integer("finished"),
                  unsettled: unsettled, at: instant, intervalMs: Int(interval), stopping: json["stopping"] == .bool(true))
        switch json["busy"] {
        case .number(let value)?: busy = value
        case .integer(let value)?: busy = Double(value)
        default: break
        }
        if case .array(let values)? = json["running_tasks"] { runningTasks = values.compactMap(RunningTask.init(json:)) }
    }

    /// The workers alive at `now`: the newest announcement of each name, those not gone.
    public static func alive(_ announcements: [WorkerAnnouncement], at now: Date) -> [WorkerAnnouncement] {
        var newest: [String: WorkerAnnouncement] = [:]
        for announcement in announcements where announcement.at >= (newest[announcement.worker]?.at ?? .distantPast) {
            newest[announcement.worker] = announcement
        }
        return newest.values.filter { $0.isAlive(at: now) }.sorted { $0.worker < $1.worker }
    }

    /// Deliveries the workers alive hold unacknowledged from each queue.
    public static func unsettled(_ alive: [WorkerAnnouncement]) -> [String: Int] {
        alive.reduce(into: [:]) { total, announcement in
            for (queue, count) in announcement.unsettled { total[queue, default: 0] += count }
        }
    }
}
