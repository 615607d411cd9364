import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// How long tasks wait in their queue, with the real binaries: a task held back while no worker
/// consumes its queue shows that wait in its result and in `warren results stats`.
@Suite("queue wait and end to end (real worker, backend, broker)")
struct QueueWaitTests {
    @Test("a task held back by a stopped worker: its result's published_at, and the stats' queue wait, match the time it waited")
    func heldBack() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let backend = try harness.startBackend()
        var worker: WarrenProcess?
        do {
            // No worker yet: the task waits in its queue, from before `publish` returned.
            let publishing = Date()
            let published = try await harness.warren(["publish", "warren.echo", "--queue", "held", "--id", "held-1"])
            #expect(published.status == 0, "\(published.stderr)")
            let publishedAt = Date()
            try await waitUntil("3 s held") { Date().timeIntervalSince(publishedAt) >= 3 }
            let started = try WarrenProcess(["worker", "--queue", "held", "--log-level", "warning"], environment: harness.environment)
            worker = started
            let consumedAt = Date()
            try await waitUntil("the result stored") {
                Self.jsonLines(try await harness.warren(["results", "show", "held-1", "--json"]).stdout).first?["status"] == .string("succeeded")
            }
            let result = try #require(Self.jsonLines(try await harness.warren(["results", "show", "held-1", "--json"]).stdout).first)
            let publishedMs = try #require(result["published_at"]?.stringValue.flatMap(TaskResult.parseTimestamp))
            let startedMs = try #require(result["started_at"]?.stringValue.flatMap(TaskResult.parseTimestamp))
            let wait = startedMs.timeIntervalSince(publishedMs)
            #expect(publishedMs >= publishing.addingTimeInterval(-0.01) && publishedMs <= publishedAt.addingTimeInterval(0.01),
                    "stamped while publish ran")
            #expect(wait >= 3 && wait <= Date().timeIntervalSince(publishing), "waited from publish until the worker came: \(wait) s: \(result)")
            #expect(startedMs.timeIntervalSince(consumedAt) > -1, "started once the worker came")

            let stats = try await harness.warren(["results", "stats", "--since", "1h", "--json"])
            let object = try #require(try? JSONText.parse(Array(stats.stdout.utf8)))
            guard case .array(let queues)? = object["queues"], let held = queues.first(where: { $0["name"] == .string("held") }) else {
                throw HarnessError.exited(stats.stdout)
            }
            let waitMs = Int64((wait * 1000).rounded())
            guard case .integer(let p50)? = held["queue_wait_ms"]?["p50"], case .integer(let endToEnd)? = held["end_to_end_ms"]?["p99"] else {
                throw HarnessError.exited(stats.stdout)
            }
            #expect(abs(p50 - waitMs) <= 1, "the stats' wait is the result's: \(p50) vs \(waitMs)")
            #expect(endToEnd >= p50)
            let table = try await harness.warren(["results", "stats", "--since", "1h"])
            #expect(table.stdout.contains("WAIT P50"), "\(table.stdout)")
        } catch {
            await OperatorToolkitTests.stop([worker, backend].compactMap { $0 })
            await harness.close()
            throw error
        }
        await OperatorToolkitTests.stop([worker, backend].compactMap { $0 })
        await harness.close()
    }

    static func jsonLines(_ text: String) -> [JSONValue] { OperatorToolkitTests.jsonLines(text) }
}
