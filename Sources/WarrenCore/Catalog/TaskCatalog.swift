/// The tasks a worker can run: the built-ins plus those of its catalog file (SPEC §3).
public struct TaskCatalog: Sendable {
    public private(set) var tasks: [String: TaskDefinition]

    /// Names reserved for the built-in tasks.
    public static let builtinNames = ["warren.echo", "warren.sleep", "warren.fail"]

    /// Only the built-in tasks.
    public init() {
        tasks = Dictionary(uniqueKeysWithValues: Self.builtinNames.map { ($0, TaskDefinition(name: $0, kind: .builtin($0))) })
    }

    /// The built-ins plus `definitions`.
    public init(_ definitions: [TaskDefinition]) {
        self.init()
        for definition in definitions { tasks[definition.name] = definition }
    }

    public subscript(name: String) -> TaskDefinition? { tasks[name] }

    /// Where a task goes when its publisher names no queue: the catalog's `queue:` for it,
    /// else `default`.
    public func queue(for task: String) -> String { tasks[task]?.queue ?? WireNames.defaultQueue }

    /// The queue of each task that names one (`queue:`), by task name.
    public var taskQueues: [String: String] { tasks.compactMapValues(\.queue) }

    /// The queues the catalog's tasks name, sorted, each once.
    public var namedQueues: [String] { Set(tasks.values.compactMap(\.queue)).sorted() }

    /// Adds or replaces a task.
    public mutating func add(_ definition: TaskDefinition) {
        tasks[definition.name] = definition
    }

    /// Reads a catalog file; throws every error found.
    public static func load(path: String) throws(TaskCatalogError) -> TaskCatalog {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw TaskCatalogError(errors: [InputFileError(file: path, line: 1, column: 1, message: "cannot read the task catalog")])
        }
        let (definitions, errors) = TaskCatalogParser.parse(yaml: text, file: path)
        guard errors.isEmpty else { throw TaskCatalogError(errors: errors) }
        return TaskCatalog(definitions)
    }
}

/// A catalog file with errors, each with file:line:column.
public struct TaskCatalogError: Error, Sendable, CustomStringConvertible {
    public let errors: [InputFileError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

import Foundation
