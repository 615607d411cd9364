import Foundation

/// A program a test ran to the end: its exit status and what it printed.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// A program that exited with a non-zero status, or did not finish in time.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `executable` with `arguments` to the end and returns what it printed.
///
/// The wait never holds a thread of Swift's cooperative pool (two threads on a two-core machine:
/// a test blocked there would stall every in-process worker, scheduler and deadline of the
/// others), and never outlasts `timeout`: the program runs under `timeout(1)`, which ends its
/// whole process group, and a run that took too long throws. Output goes to temporary files, so
/// a chatty program never blocks on a full pipe, and a child left holding the output cannot make
/// the wait endless.
///
/// With `throttled`, the program waits for one of `ProcessSlots.helpers` first: for the
/// rabbitmqctl calls of which a test run makes hundreds.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       timeout: Duration = .seconds(120), throttled: Bool = false) async throws -> ProcessRun {
    if throttled {
        await ProcessSlots.helpers.acquire()
    }
    defer {
        if throttled { Task { await ProcessSlots.helpers.release() } }
    }
    let directory = FileManager.default.temporaryDirectory
    let outputFile = directory.appendingPathComponent("warren-test-stdout-\(UUID().uuidString)")
    let errorsFile = directory.appendingPathComponent("warren-test-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outputFile)
        try? FileManager.default.removeItem(at: errorsFile)
    }
    let seconds = max(1, timeout.components.seconds)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["--kill-after=5", "\(seconds)", executable] + arguments
    if let environment { process.environment = environment }
    let outputHandle = try FileHandle(forWritingTo: outputFile)
    defer { try? outputHandle.close() }
    let errorsHandle = try FileHandle(forWritingTo: errorsFile)
    defer { try? errorsHandle.close() }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = outputHandle
    process.standardError = errorsHandle
    let (status, killed) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, Bool), any Error>) in
        process.terminationHandler = { continuation.resume(returning: ($0.terminationStatus, $0.terminationReason == .uncaughtSignal)) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    let printed = (try? Data(contentsOf: outputFile)) ?? Data()
    let errors = (try? Data(contentsOf: errorsFile)) ?? Data()
    // timeout(1) exits 124 when the time ran out; it is killed with the group when the program
    // also ignored SIGTERM (a blocked SIGTERM is inherited from the test process).
    if status == 124 || status == 137 || killed {
        throw ProcessFailure(description: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(seconds) s")
    }
    return ProcessRun(status: status, output: String(decoding: printed, as: UTF8.self),
                      errors: String(decoding: errors, as: UTF8.self))
}

/// A limit on how many programs run at once. Each rabbitmqctl starts an Erlang VM, about a
/// second of CPU: hundreds of tests starting them together would leave two cores to them alone,
/// and every test's deadlines would pass while it waited for the CPU.
public actor ProcessSlots {
    /// The slots for the rabbitmqctl calls every test makes (creating and deleting its virtual host).
    public static let helpers = ProcessSlots(limit: 2)

    private let limit: Int
    private var used = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) {
        self.limit = limit
    }

    /// Waits for a free slot and takes it.
    public func acquire() async {
        if used < limit {
            used += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Gives a slot back, to the longest waiter if there is one.
    public func release() {
        if waiting.isEmpty {
            used -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Runs a program that must succeed and returns what it printed; a non-zero exit throws
/// `ProcessFailure` naming the command and quoting its standard error.
@discardableResult
public func runChecked(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws -> String {
    let run = try await runProcess(executable, arguments, timeout: timeout)
    guard run.status == 0 else {
        throw ProcessFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(run.status): "
                             + run.errors.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return run.output
}
