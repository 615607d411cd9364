import Foundation
import WarrenCore

/// How far the active scheduler has published, kept in the broker so that a restarted instance
/// or a standby continues from there: every fire due at or before `watermark` is published, and
/// `openRuns` are the last runs of `overlap: skip | replace` schedules still without a final result.
public struct ProgressRecord: Sendable, Equatable {
    /// Milliseconds since the epoch.
    public var watermark: Int64
    public var instance: String
    /// Milliseconds since the epoch.
    public var writtenAt: Int64
    public var openRuns: [String: OpenRun]

    public init(watermark: Int64, instance: String, writtenAt: Int64, openRuns: [String: OpenRun] = [:]) {
        self.watermark = watermark
        self.instance = instance
        self.writtenAt = writtenAt
        self.openRuns = openRuns
    }

    public var body: Data {
        var runs: [String: JSONValue] = [:]
        for (schedule, run) in openRuns {
            runs[schedule] = .object(["id": .string(run.taskID), "published_at": .integer(run.publishedAt)])
        }
        let value = JSONValue.object([
            "watermark": .integer(watermark), "instance": .string(instance), "written_at": .integer(writtenAt),
            "open_runs": .object(runs),
        ])
        return Data(JSONText.write(value).utf8)
    }

    /// Reads a record; nil if `data` is not one.
    public init?(body data: Data) {
        guard case .object(let fields)? = try? JSONText.parse(data),
              case .integer(let watermark)? = fields["watermark"] else { return nil }
        self.watermark = watermark
        if case .string(let instance)? = fields["instance"] { self.instance = instance } else { instance = "" }
        if case .integer(let writtenAt)? = fields["written_at"] { self.writtenAt = writtenAt } else { writtenAt = watermark }
        openRuns = [:]
        if case .object(let runs)? = fields["open_runs"] {
            for (schedule, run) in runs {
                guard case .object(let run) = run, case .string(let id)? = run["id"] else { continue }
                var publishedAt: Int64 = watermark
                if case .integer(let at)? = run["published_at"] { publishedAt = at }
                openRuns[schedule] = OpenRun(taskID: id, publishedAt: publishedAt)
            }
        }
    }
}

/// The last published run of a schedule, not yet finished.
public struct OpenRun: Sendable, Equatable {
    public var taskID: String
    /// Milliseconds since the epoch.
    public var publishedAt: Int64

    public init(taskID: String, publishedAt: Int64) {
        self.taskID = taskID
        self.publishedAt = publishedAt
    }
}
