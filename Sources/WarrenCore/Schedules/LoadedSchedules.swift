import Foundation

/// What the active scheduler has in force: the text of every schedule file it loaded (each
/// file's last good version), published on every takeover and every reload that changed
/// something, so that the CLI acts on the schedules that actually run (`schedules pause`,
/// `trigger`, `backfill`, `plan`) wherever it is started.
public struct LoadedSchedules: Sendable, Equatable {
    public var instance: String
    /// Milliseconds since the epoch.
    public var loadedAt: Int64
    /// File text by path, as the scheduler names the file.
    public var files: [String: String]
    /// The queue each task of the scheduler's catalog names (`queue:`), which schedules that
    /// name no queue go to; empty without a catalog.
    public var taskQueues: [String: String] = [:]

    /// The largest record published: under the 16 MiB `max_message_size` of RabbitMQ 4's default
    /// configuration (3.10's is 128 MiB), with room for the frame.
    public static let largestBody = 16 * 1_048_576 - 65_536

    public init(instance: String, loadedAt: Int64, files: [String: String]) {
        self.instance = instance
        self.loadedAt = loadedAt
        self.files = files
    }

    public var body: Data {
        let value = JSONValue.object([
            "instance": .string(instance), "loaded_at": .integer(loadedAt),
            "files": .object(files.mapValues { .string($0) }),
            "task_queues": .object(taskQueues.mapValues { .string($0) }),
        ])
        return Data(JSONText.write(value).utf8)
    }

    /// Reads a snapshot; nil if `data` is not one.
    public init?(body data: Data) {
        guard case .object(let fields)? = try? JSONText.parse(data),
              case .object(let files)? = fields["files"] else { return nil }
        if case .string(let instance)? = fields["instance"] { self.instance = instance } else { instance = "" }
        if case .integer(let at)? = fields["loaded_at"] { loadedAt = at } else { loadedAt = 0 }
        var texts: [String: String] = [:]
        for (path, text) in files {
            guard case .string(let text) = text else { return nil }
            texts[path] = text
        }
        self.files = texts
        if case .object(let queues)? = fields["task_queues"] {
            taskQueues = queues.compactMapValues(\.stringValue)
        }
    }

    /// The schedules in force, parsed as the scheduler parsed them.
    public func scheduleSet() -> ScheduleSet {
        var set = ScheduleDirectory.combine(files.keys.sorted().map { ScheduleDirectory.parse(files[$0]!, file: $0) })
        set.schedules = set.schedules.map { $0.resolvingQueue(taskQueues: taskQueues) }
        return set
    }
}
