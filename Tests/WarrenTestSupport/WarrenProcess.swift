import Foundation
import Synchronization
import Testing

/// The `warren` binary built next to the tests.
public let warrenBinary: URL = Bundle.allBundles.map(\.bundleURL).first { $0.pathExtension == "xctest" }
    .map { $0.deletingLastPathComponent().appendingPathComponent("warren") }
    ?? URL(fileURLWithPath: ".build/debug/warren")

/// The test broker (scripts/broker).
public let testBrokerURL = ProcessInfo.processInfo.environment["WARREN_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5673/"

/// The real `warren` binary, started as a long-running process; what it prints is collected as
/// it comes, so a chatty process never blocks on a full pipe.
public final class WarrenProcess: Sendable {
    private let process: Process
    private let printed = PrintedOutput()

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        let output = Pipe()
        process.executableURL = warrenBinary
        process.arguments = arguments
        process.environment = warrenEnvironment(environment)
        process.standardOutput = output
        process.standardError = output
        self.process = process
        output.fileHandleForReading.readabilityHandler = { [printed] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                printed.append(data)
            }
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything printed so far (stdout and stderr).
    public var output: String { printed.text }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end; returns its exit status and everything it printed.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        try await waitUntil("warren to exit", timeout: timeout) { !self.process.isRunning }
        // The last output may still be on its way from the pipe.
        try await Task.sleep(for: .milliseconds(100))
        return (process.terminationStatus, output)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

private final class PrintedOutput: Sendable {
    private let data = Mutex(Data())
    func append(_ more: Data) { data.withLock { $0.append(more) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// Polls `condition` until it holds, failing the test after `timeout`. The default deadline is
/// generous: in the first minute of a run every suite starts at once on two cores, and a wait
/// that takes 2 s alone has been seen to take over 30 s then.
public func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw HarnessError.timeout(what)
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Polls an async `condition` until it holds, failing the test after `timeout`.
public func waitUntil(_ what: String, timeout: Duration = .seconds(60), async condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            throw HarnessError.timeout(what)
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

public enum HarnessError: Error {
    case timeout(String)
    /// The process being waited on exited; what it printed.
    case exited(String)
}
