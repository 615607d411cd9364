import Foundation
import Testing
import WarrenTestSupport
import WarrenCore

/// `warren cancel`, the real binaries against the real broker.
@Suite("warren cancel (real binary, real broker)")
struct CancelTests {
    func cancel(_ id: String) async throws {
        let result = try await WarrenProcess(["cancel", id], environment: ["WARREN_AMQP_URL": WorkerHarness.url]).wait()
        #expect(result.status == 0)
        #expect(result.output == "cancel requested for \(id)\n")
    }

    @Test("a running run task is stopped, its process group killed, and recorded cancelled")
    func running() async throws {
        let marker = "warren-cancel-test-\(UUID().uuidString.prefix(8))"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-cancel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tasks.yaml").path
        let pidFile = directory.appendingPathComponent("child.pid").path
        // The shell starts a child in the background and writes its pid once it is running; both
        // would sleep ten minutes unless the cancellation stops the whole process group.
        try """
            tasks:
              hold:
                run: ["/bin/sh", "-c", "sleep 600 & echo $! > \(pidFile).tmp && mv \(pidFile).tmp \(pidFile); sleep 600; echo {tag}"]
                kill_after: 1s
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let harness = try await WorkerHarness.make(queue: "cancel-running")
        let worker = try harness.startWorker(["--tasks", path])
        let id = try await harness.publish("hold", args: .object(["tag": .string(marker)]))
        try await waitUntil("the task to start its child", timeout: .seconds(60)) { FileManager.default.fileExists(atPath: pidFile) }
        let child = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.isRunning(child))
        try await cancel(id)
        let result = try await harness.finalResult(id, timeout: .seconds(60))
        #expect(result.status == .cancelled)
        #expect(result.error == "cancelled while running")
        // Its own run time, on the worker's clock: ended by the cancellation, far from its 600 s sleep
        // (the bound leaves room for a loaded machine).
        #expect(try #require(result.durationMs) < 120_000, "ran \(result.durationMs ?? -1) ms")
        try await waitUntil("the background child to be gone") { !Self.isRunning(child) }
        #expect(harness.results(for: id).count == 1)
        try await waitUntil("the queue acked") { try await TestCounts.queue(harness.queue, "messages") == 0 }
        worker.signal(SIGTERM)
        #expect(try await worker.wait().status == 0)
        await harness.close()
    }

    /// Whether `pid` is a live process: it exists and is not a zombie waiting to be reaped.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    @Test("a queued task never runs, even on a worker started after the cancel")
    func queued() async throws {
        let harness = try await WorkerHarness.make(queue: "cancel-queued")
        let doomed = try await harness.publish("warren.echo")
        let kept = try await harness.publish("warren.echo")
        try await cancel(doomed)
        let worker = try harness.startWorker()
        let cancelled = try await harness.finalResult(doomed)
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.error == "cancelled before it started")
        #expect(try await harness.finalResult(kept).status == .succeeded)
        #expect(harness.results(for: doomed).count == 1)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }
}
