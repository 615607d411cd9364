import Foundation
import Glibc
import Synchronization

/// Calls `onChange` shortly after files under a directory change (inotify; editors write a file
/// in several steps, so events are gathered for `settle` before one call). Subdirectories that
/// exist when watching starts, or appear later, are watched too unless `recursive` is false. The
/// scheduler watches its schedule directory with it, a worker the directory holding its task
/// catalog (that directory only).
public final class DirectoryWatcher: Sendable {
    private let directory: String
    private let threadName: String
    private let recursive: Bool
    private let settle: Duration
    private let onChange: @Sendable () -> Void
    private let stopped = Atomic<Bool>(false)

    public init(directory: String, threadName: String = "warren-watcher", recursive: Bool = true, settle: Duration = .milliseconds(100),
                onChange: @escaping @Sendable () -> Void) {
        self.directory = directory
        self.threadName = threadName
        self.recursive = recursive
        self.settle = settle
        self.onChange = onChange
    }

    /// Starts watching on a thread of its own; false if inotify is unavailable.
    public func start() -> Bool {
        let descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return false }
        let watched = watchTree(descriptor)
        guard watched else {
            close(descriptor)
            return false
        }
        let thread = Thread { [self] in
            run(descriptor)
            close(descriptor)
        }
        thread.name = threadName
        thread.start()
        return true
    }

    /// Stops within half a second.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)

    @discardableResult
    private func watchTree(_ descriptor: Int32) -> Bool {
        guard inotify_add_watch(descriptor, directory, DirectoryWatcher.mask) >= 0 else { return false }
        guard recursive else { return true }
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = directory + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                _ = inotify_add_watch(descriptor, path, DirectoryWatcher.mask)
            }
        }
        return true
    }

    private func run(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let settleMilliseconds = Int32(settle.components.seconds * 1000 + settle.components.attoseconds / 1_000_000_000_000_000)
        var pending = false
        while !stopped.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, pending ? settleMilliseconds : 500)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    pending = true
                    watchTree(descriptor)  // new subdirectories; watching one twice is harmless
                }
                continue
            }
            if ready == 0, pending {
                pending = false
                onChange()
            }
        }
    }
}
