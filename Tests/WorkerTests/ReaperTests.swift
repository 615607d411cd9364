import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// A worker killed with SIGKILL must not leave its task processes running beside the copy the
/// broker hands to another worker.
@Suite("worker: task processes die with their worker", .serialized)
struct ReaperTests {
    /// Processes whose command line is exactly `text`.
    static func count(_ text: String) async throws -> Int {
        let run = try await runProcess("/usr/bin/pgrep", ["-f", "^\(text)$"])
        return run.output.split(separator: "\n").count
    }

    @Test("a run task and the child it started die soon after a SIGKILL to the worker")
    func diesWithWorker() async throws {
        let marker = "sleep 31\(Int.random(in: 1000...9999))"
        let path = try catalogFile("""
            tasks:
              long:
                run: ["/bin/sh", "-c", "\(marker) & exec \(marker)"]
                timeout: 10m
            """)
        let harness = try await WorkerHarness.make(queue: "reaper")
        let worker = try harness.startWorker(["--tasks", path])
        _ = try await harness.publish("long")
        try await waitUntil("the task and its child running") { try await Self.count(marker) == 2 }
        worker.signal(SIGKILL)
        // The reaper looks every 100 ms; the deadline leaves room for a loaded machine (they ran
        // on for good before).
        try await waitUntil("the task's processes gone", timeout: .seconds(3)) { try await Self.count(marker) == 0 }
        _ = try? await worker.wait()
        await harness.close()
    }

    @Test("under the reaper a task still ends as it would alone: its exit status, its signal, its output")
    func mirrorsTheTask() async throws {
        let path = try catalogFile("""
            tasks:
              exit-seven:
                run: ["/bin/sh", "-c", "echo out; echo err >&2; exit 7"]
              killed:
                run: ["/bin/sh", "-c", "kill -9 $$"]
              missing:
                run: ["no-such-program-anywhere"]
              on-path:
                run: ["echo", "found"]
            """)
        let harness = try await WorkerHarness.make(queue: "mirror")
        let worker = try harness.startWorker(["--tasks", path])
        let exit = try await harness.finalResult(try await harness.publish("exit-seven"))
        #expect(exit.status == .failed)
        #expect(exit.exitCode == 7)
        #expect(exit.output == "out\nerr\n")
        let killed = try await harness.finalResult(try await harness.publish("killed"))
        #expect(killed.error == "killed by signal 9")
        let missing = try await harness.finalResult(try await harness.publish("missing"))
        #expect(missing.error == "could not run no-such-program-anywhere: not found on PATH")
        let found = try await harness.finalResult(try await harness.publish("on-path"))
        #expect(found.output == "found\n")
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
    }
}
