import Foundation
import Synchronization
import WarrenCore

/// The catalog a worker runs tasks from, replaced whole when its file is read again (SIGHUP, a
/// change to the file): a file that fails to load leaves the catalog in force as it was. A task
/// already running keeps the definition it started with. Swift handlers registered in code
/// (`TaskCatalog.register`) stay across reloads unless the file names the same task.
final class CatalogSource: Sendable {
    private let state: Mutex<(catalog: TaskCatalog, fileData: Data?)>
    private let handlers: [TaskDefinition]
    /// The catalog file, if the worker has one.
    let file: String?

    init(configured: TaskCatalog, file: String?) {
        state = Mutex((configured, file.flatMap { FileManager.default.contents(atPath: $0) }))
        handlers = configured.tasks.values.filter { if case .handler = $0.kind { true } else { false } }
        self.file = file
    }

    /// The catalog in force.
    var catalog: TaskCatalog { state.withLock { $0.catalog } }

    /// What a reload changed.
    struct Changes: Sendable, Equatable {
        var added: [String] = []
        var changed: [String] = []
        var removed: [String] = []
        /// Tasks in the catalog now.
        var count = 0
    }

    /// Reads the file again: nil when its contents have not changed since the last load; the
    /// file's errors, thrown, leave the catalog in force.
    func reload() throws(TaskCatalogError) -> Changes? {
        guard let file else { return nil }
        let data = FileManager.default.contents(atPath: file)
        if let data, data == state.withLock({ $0.fileData }) { return nil }
        var fresh = try TaskCatalog.load(path: file)
        for handler in handlers where fresh[handler.name] == nil { fresh.add(handler) }
        return state.withLock { state in
            let old = state.catalog.tasks, new = fresh.tasks
            state = (fresh, data)
            return Changes(added: new.keys.filter { old[$0] == nil }.sorted(),
                           changed: new.keys.filter { old[$0] != nil && old[$0] != new[$0] }.sorted(),
                           removed: old.keys.filter { new[$0] == nil }.sorted(), count: new.count)
        }
    }
}
