import CTaskReaper
import Foundation

/// Runs `run` tasks under a reaper, so that when the worker dies, even by SIGKILL, its task
/// processes (and their children) die within about 100 ms instead of running on beside the
/// redelivered copy. The reaper is the worker's own executable started with a reserved first
/// argument: a program embedding the worker calls `TaskReaper.runIfRequested()` first thing in
/// `main` and sets `WorkerConfiguration.reapTasks` (`warren worker` does both).
public enum TaskReaper {
    /// The reserved first argument.
    static let argument = "__warren-task-reaper"

    /// When this process was started as a task's reaper, runs the task and never returns;
    /// otherwise returns at once.
    public static func runIfRequested(_ arguments: [String] = CommandLine.arguments) {
        guard arguments.count >= 4, arguments[1] == argument, let worker = Int32(arguments[2]) else { return }
        let path = arguments[3]
        let argv = Array(arguments.dropFirst(4))
        var cArguments = argv.map { strdup($0) }
        cArguments.append(nil)
        warren_task_reaper(worker, path, &cArguments)
    }

    /// The command line that runs `argv` (its program resolved to `path`) under the reaper:
    /// this very executable (`/proc/self/exe` stays valid even when the file is replaced by an
    /// upgrade).
    static func command(path: String, argv: [String]) -> (executable: String, arguments: [String]) {
        ("/proc/self/exe", [argument, "\(getpid())", path] + argv)
    }

    /// `program` as `execv` needs it: itself when it holds a `/`, else the first executable of
    /// that name on `PATH` (as the shell would find it); nil when there is none.
    static func resolve(_ program: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if program.contains("/") { return program }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
