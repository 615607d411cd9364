import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// `warren worker --tasks FILE` reads its catalog again when the file changes and on SIGHUP
/// (real worker, real broker).
@Suite("task catalog reload (real worker, real broker)")
struct CatalogReloadTests {
    /// A catalog file in a directory of its own (the worker watches that directory).
    static func catalog(_ yaml: String) throws -> (file: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warren-reload-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/tasks.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return (file, directory)
    }

    @Test("a change to the file adds, changes and removes tasks for the next deliveries; a running task is unaffected; a broken file keeps the last good catalog")
    func reloadOnChange() async throws {
        let gate = try GateTask()
        defer { gate.remove() }
        let gated = "run: [\"/bin/sh\", \"-c\", \"touch \(gate.gate).started; while [ ! -e \(gate.gate) ]; do sleep 0.05; done; echo gated\"]"
        let (file, directory) = try Self.catalog("tasks:\n  greet:\n    run: [\"/bin/echo\", \"one\"]\n  gated:\n    \(gated)\n")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try await WorkerHarness.make(queue: "reload")
        let worker = try harness.startWorker(["--tasks", file, "--log-level", "info"])
        do {
            let before = try await harness.finalResult(try await harness.publish("later"))
            #expect(before.status == .rejected)
            #expect(before.error == "unknown task \"later\": not in this worker's catalog")
            let running = try await harness.publish("gated")
            try await waitUntil("the gated task running") { gate.hasStarted }

            // greet changed, later added, gated removed while it runs.
            try "tasks:\n  greet:\n    run: [\"/bin/echo\", \"two\"]\n  later:\n    run: [\"/bin/echo\", \"added\"]\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            try await waitUntil("the reload logged") { worker.output.contains("task catalog reloaded") }
            #expect(worker.output.contains("added=[\"later\"]") && worker.output.contains("changed=[\"greet\"]") && worker.output.contains("removed=[\"gated\"]"),
                    "\(worker.output)")
            let later = try await harness.finalResult(try await harness.publish("later"))
            #expect(later.status == .succeeded)
            #expect(later.output == "added\n")
            #expect(try await harness.finalResult(try await harness.publish("greet")).output == "two\n")
            gate.open()
            let finished = try await harness.finalResult(running)
            #expect(finished.status == .succeeded, "a task running during the reload finishes with the definition it started with")
            #expect(finished.output == "gated\n")
            #expect(try await harness.finalResult(try await harness.publish("gated")).status == .rejected, "removed for new deliveries")

            // A broken file: the error with its line, and the last good catalog stays.
            try "tasks:\n  greet:\n    run: \"/bin/echo\"\n".write(toFile: file, atomically: true, encoding: .utf8)
            try await waitUntil("the rejection logged") { worker.output.contains("task catalog rejected; the last good version stays in force") }
            #expect(worker.output.contains("\(file):3:10: run: expected a non-empty list"), "\(worker.output)")
            #expect(try await harness.finalResult(try await harness.publish("later")).status == .succeeded)
            #expect(worker.isRunning)
        } catch {
            gate.open()
            await Self.stop(worker, harness, signal: SIGKILL)
            throw error
        }
        await Self.stop(worker, harness, signal: SIGTERM)
    }

    static func stop(_ worker: WarrenProcess, _ harness: WorkerHarness, signal: Int32) async {
        worker.signal(signal)
        _ = try? await worker.wait()
        await harness.close()
    }

    @Test("with --no-watch a change waits for SIGHUP; SIGHUP reloads")
    func reloadOnHangup() async throws {
        let (file, directory) = try Self.catalog("tasks:\n  greet:\n    run: [\"/bin/echo\", \"one\"]\n")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try await WorkerHarness.make(queue: "hangup")
        let worker = try harness.startWorker(["--tasks", file, "--no-watch", "--log-level", "info"])
        do {
            #expect(try await harness.finalResult(try await harness.publish("greet")).output == "one\n")
            try "tasks:\n  greet:\n    run: [\"/bin/echo\", \"two\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await harness.finalResult(try await harness.publish("greet")).output == "one\n", "not reloaded without SIGHUP")
            #expect(!worker.output.contains("task catalog reloaded"))
            worker.signal(SIGHUP)
            try await waitUntil("the reload logged") { worker.output.contains("task catalog reloaded") }
            #expect(try await harness.finalResult(try await harness.publish("greet")).output == "two\n")
            // SIGHUP with nothing changed reloads nothing.
            worker.signal(SIGHUP)
            #expect(try await harness.finalResult(try await harness.publish("greet")).output == "two\n")
            #expect(worker.output.components(separatedBy: "task catalog reloaded").count == 2, "\(worker.output)")
        } catch {
            await Self.stop(worker, harness, signal: SIGKILL)
            throw error
        }
        await Self.stop(worker, harness, signal: SIGTERM)
    }
}
