import Foundation

/// Every schedule file under a directory, validated together: names must be unique across
/// files, and a file with any error is rejected as a whole while the others stand.
public struct ScheduleSet: Sendable {
    /// Schedules of the files that passed, in file then declaration order.
    public var schedules: [ScheduleDefinition]
    /// Every error of every file, in file then line order.
    public var errors: [InputFileError]
    /// Every schedule file read, as displayed in messages.
    public var files: [String]
    /// Files rejected because of an error.
    public var rejectedFiles: [String]
    /// Workflows of the files that passed, in file then declaration order (SPEC §8).
    public var workflows: [WorkflowDefinition] = []

    public init(schedules: [ScheduleDefinition] = [], errors: [InputFileError] = [], files: [String] = [], rejectedFiles: [String] = []) {
        self.schedules = schedules
        self.errors = errors
        self.files = files
        self.rejectedFiles = rejectedFiles
    }

    /// The workflow called `name`, if a valid file declares it.
    public func workflow(named name: String) -> WorkflowDefinition? {
        workflows.first { $0.name == name }
    }

    /// The schedule called `name`, if a valid file declares it.
    public func schedule(named name: String) -> ScheduleDefinition? {
        schedules.first { $0.name == name }
    }
}

/// A schedule directory that cannot be read at all.
public struct ScheduleDirectoryError: Error, Sendable, CustomStringConvertible {
    public let directory: String
    public let reason: String
    public var description: String { "schedules directory \(directory): \(reason)" }
}

public enum ScheduleDirectory {
    /// When `file` was last written, seconds since the epoch; nil when it cannot be read. The
    /// dead-man's switch checks a schedule's fires from then when the store holds none of them.
    public static func lastWritten(_ file: String) -> Int64? {
        ((try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970) }
    }

    /// Loads every `*.yaml` and `*.yml` file under `directory` (recursively, skipping hidden
    /// files and folders), in path order.
    public static func load(_ directory: String) throws(ScheduleDirectoryError) -> ScheduleSet {
        combine(try parseFiles(in: directory))
    }

    /// Every schedule file under `directory`, each parsed on its own (names not yet compared
    /// across files), in path order.
    public static func parseFiles(in directory: String) throws(ScheduleDirectoryError) -> [ParsedFile] {
        let paths = try files(in: directory)
        // Files are independent until names are compared, so they are parsed in parallel.
        let results = ParallelResults<ParsedFile>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            results.set(index, parseFile(paths[index]))
        }
        return results.values
    }

    /// One file's schedules and errors, and the text they were read from (empty when the file
    /// could not be read).
    public typealias ParsedFile = (file: String, schedules: [ScheduleDefinition], workflows: [WorkflowDefinition], errors: [InputFileError], text: String)

    static func parseFile(_ path: String) -> ParsedFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            return (path, [], [], [InputFileError(file: path, line: 1, column: 1, message: "cannot read the file")], "")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            return (path, [], [], [InputFileError(file: path, line: 1, column: 1, message: "not UTF-8 text")], "")
        }
        return parse(text, file: path)
    }

    /// One file's schedules and errors, from its text.
    public static func parse(_ text: String, file path: String) -> ParsedFile {
        let result = ScheduleFileParser.parse(yaml: text, file: path)
        return (path, result.schedules, result.workflows, result.errors, text)
    }

    /// Joins parsed files, rejecting a file that redeclares a schedule or workflow name an
    /// earlier file declared.
    public static func combine(_ parsed: [ParsedFile]) -> ScheduleSet {
        var set = ScheduleSet(files: parsed.map(\.file))
        var declared: [String: SourceLocation] = [:]
        var declaredWorkflows: [String: SourceLocation] = [:]
        for file in parsed {
            var errors = file.errors
            for schedule in file.schedules {
                if let earlier = declared[schedule.name] {
                    errors.append(InputFileError(
                        file: file.file, line: schedule.location.line, column: schedule.location.column,
                        message: "schedule name \"\(schedule.name)\" is already declared in \(earlier); names must be unique across files"
                    ))
                }
            }
            for workflow in file.workflows {
                if let earlier = declaredWorkflows[workflow.name], let location = workflow.location {
                    errors.append(InputFileError(
                        file: file.file, line: location.line, column: location.column,
                        message: "workflow name \"\(workflow.name)\" is already declared in \(earlier); names must be unique across files"
                    ))
                }
            }
            if errors.isEmpty {
                for schedule in file.schedules { declared[schedule.name] = schedule.location }
                for workflow in file.workflows { declaredWorkflows[workflow.name] = workflow.location }
                set.schedules += file.schedules
                set.workflows += file.workflows
            } else {
                set.rejectedFiles.append(file.file)
                set.errors += errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
            }
        }
        return set
    }

    /// Schedule file paths under `directory`, sorted.
    static func files(in directory: String) throws(ScheduleDirectoryError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ScheduleDirectoryError(directory: directory, reason: "not found")
        }
        guard isDirectory.boolValue else {
            throw ScheduleDirectoryError(directory: directory, reason: "not a directory")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw ScheduleDirectoryError(directory: directory, reason: "cannot be read")
        }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let components = relative.split(separator: "/")
            if components.contains(where: { $0.hasPrefix(".") }) { continue }
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            paths.append(base + "/" + relative)
        }
        return paths.sorted()
    }
}
