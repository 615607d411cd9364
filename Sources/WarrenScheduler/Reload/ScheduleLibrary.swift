import Synchronization
import WarrenCore

/// The schedules in force, file by file: a file that fails validation is rejected as a whole
/// and its last good version stays in force; other files are unaffected.
public final class ScheduleLibrary: Sendable {
    private struct State {
        var goodVersions: [String: ScheduleDirectory.ParsedFile] = [:]
        var schedules: [ScheduleDefinition] = []
        var workflows: [String: WorkflowDefinition] = [:]
        var version = 0
    }

    public let directory: String
    /// What the running deployment cannot honour in a schedule that is valid in itself (a
    /// priority on quorum queues): the problem, or nil. Such a schedule rejects its file.
    private let rule: @Sendable (ScheduleDefinition) -> String?
    private let state = Mutex(State())

    /// The queue of each catalog task that names one: where schedules naming no queue go.
    public let taskQueues: [String: String]

    public init(directory: String, taskQueues: [String: String] = [:], rule: @escaping @Sendable (ScheduleDefinition) -> String? = { _ in nil }) {
        self.directory = directory
        self.taskQueues = taskQueues
        self.rule = rule
    }

    /// The schedules in force.
    public var schedules: [ScheduleDefinition] { state.withLock { $0.schedules } }

    /// The workflows in force, by name: a schedule whose task names one starts a run of it.
    public var workflows: [String: WorkflowDefinition] { state.withLock { $0.workflows } }

    /// The text of each file whose schedules are in force (its last good version), by path.
    public var filesInForce: [String: String] {
        state.withLock { state in state.goodVersions.mapValues(\.text) }
    }

    /// Bumped by every reload that changed what is in force.
    public var version: Int { state.withLock { $0.version } }

    /// Reads the directory again. Throws only if the directory itself cannot be read (then
    /// nothing changes).
    @discardableResult
    public func reload() throws(ScheduleDirectoryError) -> ReloadReport {
        let parsed = try ScheduleDirectory.parseFiles(in: directory).map { file in
            var file = file
            file.schedules = file.schedules.map { $0.resolvingQueue(taskQueues: taskQueues) }
            for schedule in file.schedules {
                guard let problem = rule(schedule) else { continue }
                file.errors.append(InputFileError(file: schedule.location.file, line: schedule.location.line,
                                                  column: schedule.location.column, message: "schedule \"\(schedule.name)\": \(problem)"))
            }
            return file
        }
        return state.withLock { state in
            var report = ReloadReport()
            var files: [ScheduleDirectory.ParsedFile] = []
            var goodVersions: [String: ScheduleDirectory.ParsedFile] = [:]
            for file in parsed {
                if file.errors.isEmpty {
                    goodVersions[file.file] = file
                    files.append(file)
                } else {
                    report.errors += file.errors
                    if let previous = state.goodVersions[file.file] {
                        report.keptPrevious.append(file.file)
                        goodVersions[file.file] = previous
                        files.append(previous)
                    } else {
                        report.rejectedWithoutPrevious.append(file.file)
                    }
                }
            }
            let combined = ScheduleDirectory.combine(files)
            report.errors += combined.errors
            report.files = parsed.count
            report.schedules = combined.schedules.count
            let before = state.schedules.map(\.fingerprintWithName)
            state.goodVersions = goodVersions
            state.schedules = combined.schedules
            let workflows = Dictionary(combined.workflows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            if before != combined.schedules.map(\.fingerprintWithName) || workflows != state.workflows { state.version += 1 }
            state.workflows = workflows
            return report
        }
    }
}

/// What a reload found.
public struct ReloadReport: Sendable {
    public var files = 0
    public var schedules = 0
    /// Every error found, file by file.
    public var errors: [InputFileError] = []
    /// Rejected files whose last good version stays in force.
    public var keptPrevious: [String] = []
    /// Rejected files that never had a good version.
    public var rejectedWithoutPrevious: [String] = []
}

extension ScheduleDefinition {
    var fingerprintWithName: String { name + "\u{1E}" + fingerprint }
}
