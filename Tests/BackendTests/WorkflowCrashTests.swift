import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// A workflow run while the coordinating backend and the worker are each killed with SIGKILL
/// several times (SPEC §8: killing any Warren process at any moment neither loses a step nor runs
/// one twice without a record).
@Suite("workflows under SIGKILL (real worker, backend, broker, SQLite)")
struct WorkflowCrashTests {
    @Test("two backends and a worker, a backend or the worker killed six times during a 15-step run: every step ran, none twice without a record, the run succeeded")
    func killed() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("warren-wf-crash-\(UUID().uuidString.prefix(8)).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        // Each step appends its name to the log when it starts, then works for 0.4 s. The name is
        // an argument of the shell script, never part of it.
        let catalog = try OperatorToolkitTests.catalogFile("""
            tasks:
              step:
                run: ["/bin/sh", "-c", "echo \\"$0\\" >> \(log); sleep 0.4", "{name}"]
            """)
        let parallel = (0..<10).map { "p\($0)" }
        var steps = ["      start: { task: step, args: { name: start } }"]
        steps += parallel.map { "      \($0): { task: step, after: [start], args: { name: \($0) } }" }
        steps.append("      join: { task: step, after: [\(parallel.joined(separator: ", "))], args: { name: join } }")
        steps += ["      c1: { task: step, after: [join], args: { name: c1 } }",
                  "      c2: { task: step, after: [c1], args: { name: c2 } }",
                  "      c3: { task: step, after: [c2], args: { name: c3 } }"]
        let names = ["start"] + parallel + ["join", "c1", "c2", "c3"]
        let directory = try WorkflowTests.schedules("workflows:\n  crash:\n    steps:\n" + steps.joined(separator: "\n") + "\n")
        let harness = try await BackendHarness.make(.sqlite)
        // Two backends on one store: one coordinates at a time, the other takes over.
        var backends = [try harness.startBackend(), try harness.startBackend()]
        let workerArguments = ["worker", "--tasks", catalog, "--concurrency", "4", "--log-level", "warning"]
        var worker = try WarrenProcess(workerArguments, environment: harness.environment)
        do {
            let published = try await harness.warren(["publish", "crash", "--schedules", directory, "--id", "crash-1"])
            #expect(published.status == 0, "\(published.stderr)")
            // Kill one of them whenever a new step has started, alternating, three times each.
            for round in 0..<6 {
                let started = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").count
                try await waitUntil("another step to start (round \(round))", timeout: .seconds(60)) {
                    (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").count > started
                }
                if round % 2 == 0 {
                    let which = (round / 2) % 2
                    backends[which].signal(SIGKILL)
                    _ = try await backends[which].wait()
                    backends[which] = try harness.startBackend()
                } else {
                    worker.signal(SIGKILL)
                    _ = try await worker.wait()
                    worker = try WarrenProcess(workerArguments, environment: harness.environment)
                }
            }
            try await waitUntil("the run to end", timeout: .seconds(120)) {
                try await WorkflowTests.graph(harness, "crash-1")?.status != "running"
            }
            let graph = try #require(try await WorkflowTests.graph(harness, "crash-1"))
            #expect(graph.status == "succeeded")
            #expect(graph.steps.values.allSatisfy { $0["state"] == .string("succeeded") }, "\(graph.steps)")
            let ran = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map(String.init)
            for name in names {
                let times = ran.filter { $0 == name }.count
                let runs = OperatorToolkitTests.jsonLines(try await harness.warren(["results", "show", "crash-1/\(name)", "--json"]).stdout)
                #expect(times >= 1, "step \(name) ran")
                // A step that ran again is on record as such: more than one run stored, or the
                // broker's redelivered mark on the run that finished.
                if times > 1 {
                    #expect(runs.count >= 2 || runs.contains { $0["redelivered"] == .bool(true) }, "step \(name) ran \(times) times: \(runs)")
                }
            }
            // The run's own result is stored once.
            let list = try await harness.warren(["results", "list", "--task", "crash", "--json"])
            #expect(OperatorToolkitTests.jsonLines(list.stdout).map { $0["status"] } == [.string("succeeded")], "\(list.stdout)")
        } catch {
            await OperatorToolkitTests.stop([worker] + backends)
            await harness.close()
            throw error
        }
        await OperatorToolkitTests.stop([worker] + backends)
        await harness.close()
    }
}
