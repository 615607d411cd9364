import Foundation
import Logging
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// Every store behaves the same: real SQLite files and a real PostgreSQL server.
@Suite("result stores (real SQLite, real PostgreSQL)")
struct ResultStoreTests {
    @Test("the same result stored twice leaves one record, with every field as sent", arguments: StoreKind.allCases)
    func idempotent(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var result = makeResult("t-1", schedule: "nightly")
        result.exitCode = 3
        result.output = "line 1\nline 2 \u{0}nul"
        result.error = "exit status 3"
        result.result = .object(["rows": .integer(12), "ok": .bool(true)])
        result.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        result.batch = "batch-7"
        try await fixture.store.store([result])
        try await fixture.store.store([result, result])
        let listed = try await fixture.store.list(ResultQuery())
        let attempts = try await fixture.store.attempts(of: "t-1")
        await fixture.close()
        #expect(listed.count == 1)
        #expect(attempts.count == 1)
        var expected = result
        // Text cannot hold NUL in either store: it is stored as U+FFFD.
        expected.output = "line 1\nline 2 \u{FFFD}nul"
        #expect(listed.first == expected)
        #expect(attempts.first == expected)
    }

    @Test("the latest row is the highest attempt, a final status beats retrying, whatever the arrival order", arguments: StoreKind.allCases)
    func latestState(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let first = makeResult("t-2", attempt: 1, status: .retrying, finishedAt: "2026-11-23T10:00:00.000Z")
        let second = makeResult("t-2", attempt: 2, status: .failed, finishedAt: "2026-11-23T10:00:30.000Z")
        // Out of order, in separate batches and in one batch.
        try await fixture.store.store([second])
        try await fixture.store.store([first])
        try await fixture.store.store([second, first])
        let latest = try await fixture.store.list(ResultQuery())
        let attempts = try await fixture.store.attempts(of: "t-2")
        // A redelivered attempt 1 that ended with a final status after a retrying one of the same attempt.
        let retry = makeResult("t-3", attempt: 1, status: .retrying, finishedAt: "2026-11-23T11:00:00.000Z")
        let final = makeResult("t-3", attempt: 1, status: .succeeded, finishedAt: "2026-11-23T10:59:00.000Z")
        try await fixture.store.store([final, retry])
        let third = try await fixture.store.attempts(of: "t-3")
        await fixture.close()
        #expect(latest.map(\.status) == [.failed])
        #expect(latest.first?.attempt == 2)
        #expect(attempts.map(\.attempt) == [1, 2])
        #expect(attempts.map(\.status) == [.retrying, .failed])
        #expect(third.map(\.status) == [.succeeded])
    }

    @Test("every run is a record: the same run stored twice is one, a second run of an attempt another; the latest is the run finished last",
          arguments: StoreKind.allCases)
    func runs(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var first = makeResult("run-1", attempt: 1, status: .succeeded, finishedAt: "2026-11-23T10:00:05.000Z")
        first.runID = "00000000000000a1"
        first.startedAt = "2026-11-23T10:00:00.000Z"
        var second = makeResult("run-1", attempt: 1, status: .failed, finishedAt: "2026-11-23T10:00:04.000Z")
        second.runID = "00000000000000b2"
        second.redelivered = true
        second.startedAt = "2026-11-23T10:00:02.000Z"
        // The redelivered run is stored first (it finished first), then the first run twice (republished).
        try await fixture.store.store([second])
        try await fixture.store.store([first])
        try await fixture.store.store([first])
        let runs = try await fixture.store.attempts(of: "run-1")
        let latest = try await fixture.store.latest(of: "run-1")
        let counts = try await fixture.store.counts()
        // A later attempt still beats both runs of attempt 1.
        var retried = makeResult("run-1", attempt: 2, status: .succeeded, finishedAt: "2026-11-23T09:00:00.000Z")
        retried.runID = "00000000000000c3"
        try await fixture.store.store([retried])
        let afterRetry = try await fixture.store.latest(of: "run-1")
        // Results without a run id (older workers) stay one record per (id, attempt).
        try await fixture.store.store([makeResult("old-1"), makeResult("old-1", status: .failed, finishedAt: "2026-11-23T11:00:00.000Z")])
        let old = try await fixture.store.attempts(of: "old-1")
        await fixture.close()
        #expect(runs == [first, second], "the first delivery's run, then the redelivered one")
        #expect(runs.map(\.redelivered) == [false, true])
        #expect(latest == first, "of two runs of one attempt, the one that finished last")
        #expect(counts == StoredCounts(tasks: 1, attempts: 2))
        #expect(afterRetry?.attempt == 2)
        #expect(old.map(\.status) == [.failed])
        #expect(old.first?.runID == nil)
        #expect(old.first?.redelivered == false)
    }

    @Test("pages: the cursor of a full page continues exactly after its last row, ties broken by id", arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        // Five rows share one time (read once: the clock may tick between rows), and the cursor
        // must not skip or repeat them.
        let shared = isoAgo(10)
        let batch = (0..<12).map { makeResult("p-\(String(format: "%02d", $0))", finishedAt: $0 < 5 ? shared : isoAgo(Double(100 + $0))) }
        try await fixture.store.store(batch)
        var seen: [String] = []
        var query = ResultQuery(limit: 4)
        var pages = 0
        while true {
            let page = try await fixture.store.page(query)
            seen += page.results.map(\.id)
            pages += 1
            guard let next = page.next else { break }
            #expect(ResultCursor(text: next.text) == next)
            query.after = next
        }
        await fixture.close()
        #expect(seen == ["p-00", "p-01", "p-02", "p-03", "p-04", "p-05", "p-06", "p-07", "p-08", "p-09", "p-10", "p-11"])
        #expect(pages == 4, "three full pages, then an empty one")
    }

    @Test("list filters by task, schedule, status, queue and time, newest first, up to the limit", arguments: StoreKind.allCases)
    func filters(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var batch: [TaskResult] = []
        for index in 0..<30 {
            batch.append(makeResult("f-\(index)", task: index % 2 == 0 ? "even" : "odd", status: index % 3 == 0 ? .failed : .succeeded,
                                    schedule: index % 5 == 0 ? "every-5" : nil, finishedAt: isoAgo(Double(3600 * index))))
        }
        try await fixture.store.store(batch)
        let store = fixture.store
        let all = try await store.list(ResultQuery(limit: 100))
        let limited = try await store.list(ResultQuery(limit: 4))
        let even = try await store.list(ResultQuery(task: "even", limit: 100))
        let failedOdd = try await store.list(ResultQuery(task: "odd", status: .failed, limit: 100))
        let scheduled = try await store.list(ResultQuery(schedule: "every-5", limit: 100))
        let recent = try await store.list(ResultQuery(since: Date().addingTimeInterval(-3600 * 4.5), limit: 100))
        let otherQueue = try await store.list(ResultQuery(queue: "elsewhere", limit: 100))
        await fixture.close()
        #expect(all.map(\.id) == (0..<30).map { "f-\($0)" })
        #expect(limited.map(\.id) == ["f-0", "f-1", "f-2", "f-3"])
        #expect(even.map(\.id) == stride(from: 0, to: 30, by: 2).map { "f-\($0)" })
        #expect(failedOdd.map(\.id) == [3, 9, 15, 21, 27].map { "f-\($0)" })
        #expect(scheduled.map(\.id) == [0, 5, 10, 15, 20, 25].map { "f-\($0)" })
        #expect(recent.map(\.id) == ["f-0", "f-1", "f-2", "f-3", "f-4"])
        #expect(otherQueue.isEmpty)
    }

    @Test("list filters by batch: exactly the batch's task ids, at their latest state, each attempt keeping the batch", arguments: StoreKind.allCases)
    func batchFilter(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var results: [TaskResult] = []
        for index in 0..<12 {
            var result = makeResult("b-\(index)", attempt: index == 4 ? 2 : 1, status: index == 4 ? .failed : .succeeded,
                                    finishedAt: isoAgo(Double(60 * index)))
            result.batch = index < 5 ? "batch-a" : (index < 10 ? "batch-b" : nil)
            results.append(result)
        }
        var retrying = makeResult("b-4", status: .retrying, finishedAt: isoAgo(3600))
        retrying.batch = "batch-a"
        results.insert(retrying, at: 0)
        try await fixture.store.store(results)
        let store = fixture.store
        let first = try await store.list(ResultQuery(batch: "batch-a", limit: 100))
        let second = try await store.list(ResultQuery(batch: "batch-b", limit: 100))
        let failedOfFirst = try await store.list(ResultQuery(status: .failed, batch: "batch-a", limit: 100))
        let unknown = try await store.list(ResultQuery(batch: "batch-c", limit: 100))
        let attempts = try await store.attempts(of: "b-4")
        let unbatched = try await store.latest(of: "b-11")
        await fixture.close()
        #expect(first.map(\.id) == (0..<5).map { "b-\($0)" })
        #expect(first.allSatisfy { $0.batch == "batch-a" })
        #expect(second.map(\.id) == (5..<10).map { "b-\($0)" })
        #expect(failedOfFirst.map(\.id) == ["b-4"])
        #expect(unknown.isEmpty)
        #expect(attempts.map(\.status) == [.retrying, .failed])
        #expect(attempts.map(\.batch) == ["batch-a", "batch-a"])
        #expect(unbatched?.batch == nil && unbatched?.id == "b-11")
    }

    @Test("attempts after a sequence number follow storage order (what `results tail` reads)", arguments: StoreKind.allCases)
    func sequence(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let empty = try await fixture.store.lastSequence()
        try await fixture.store.store([makeResult("s-1"), makeResult("s-2")])
        let mark = try await fixture.store.lastSequence()
        try await fixture.store.store([makeResult("s-3", attempt: 1, status: .retrying), makeResult("s-3", attempt: 2)])
        let after = try await fixture.store.attempts(after: mark, limit: 10)
        let capped = try await fixture.store.attempts(after: 0, limit: 3)
        await fixture.close()
        #expect(empty == 0)
        #expect(after.map { "\($0.result.id)/\($0.result.attempt)" } == ["s-3/1", "s-3/2"])
        #expect(after.allSatisfy { $0.sequence > mark })
        #expect(capped.map(\.result.id) == ["s-1", "s-2", "s-3"])
    }

    @Test("statistics: counts, success rate and nearest-rank p50/p95 per task and per schedule", arguments: StoreKind.allCases)
    func statistics(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var batch: [TaskResult] = []
        for index in 1...20 {
            batch.append(makeResult("a-\(index)", task: "alpha", status: index <= 18 ? .succeeded : .failed, schedule: "hourly",
                                    finishedAt: isoAgo(60), durationMs: Int64(index * 10)))
        }
        batch.append(makeResult("b-1", task: "beta", status: .retrying, finishedAt: isoAgo(60)))
        batch.append(makeResult("c-1", task: "gamma", finishedAt: isoAgo(3 * 86_400), durationMs: 5))
        try await fixture.store.store(batch)
        let statistics = ResultStatistics(try await fixture.store.finalResults(since: Date().addingTimeInterval(-86_400)))
        await fixture.close()
        let alpha = try #require(statistics.groups.first { $0.kind == "task" && $0.name == "alpha" })
        #expect(statistics.groups.map { "\($0.kind):\($0.name)" } == ["task:alpha", "queue:reports", "schedule:hourly"])
        #expect(alpha.total == 20)
        #expect(alpha.byStatus == ["succeeded": 18, "failed": 2])
        #expect(alpha.successRate == 0.9)
        #expect(alpha.p50Ms == 100)
        #expect(alpha.p95Ms == 190)
    }

    @Test("statistics: queue wait (started - published) and end to end (finished - published), p50/p95/p99 per task and queue", arguments: StoreKind.allCases)
    func queueWait(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var batch: [TaskResult] = []
        let now = Date()
        for index in 1...100 {
            var result = makeResult("w-\(index)", task: "waits", durationMs: 50)
            result.queue = index <= 50 ? "fast" : "slow"
            let published = now.addingTimeInterval(-600)
            result.publishedAt = TaskResult.timestamp(published)
            result.startedAt = TaskResult.timestamp(published.addingTimeInterval(Double(index) / 10))  // waits 100 ms … 10 s
            result.finishedAt = TaskResult.timestamp(published.addingTimeInterval(Double(index) / 10 + 0.05))
            batch.append(result)
        }
        var unknown = makeResult("w-old", task: "waits", finishedAt: isoAgo(60))
        unknown.queue = "fast"
        batch.append(unknown)  // no published_at: counted, no wait
        try await fixture.store.store(batch)
        let stored = try await fixture.store.latest(of: "w-1")
        let statistics = ResultStatistics(try await fixture.store.finalResults(since: now.addingTimeInterval(-86_400)))
        await fixture.close()
        #expect(stored?.publishedAt == batch[0].publishedAt, "stored and read back")
        let task = try #require(statistics.groups.first { $0.kind == "task" && $0.name == "waits" })
        #expect(task.total == 101)
        #expect(task.queueWait == ResultStatistics.Percentiles([Int64](stride(from: 100, through: 10_000, by: 100))))
        #expect(task.queueWait.p50 == 5000 && task.queueWait.p95 == 9500 && task.queueWait.p99 == 9900)
        #expect(task.endToEnd.p50 == 5050 && task.endToEnd.p99 == 9950)
        let fast = try #require(statistics.groups.first { $0.kind == "queue" && $0.name == "fast" })
        let slow = try #require(statistics.groups.first { $0.kind == "queue" && $0.name == "slow" })
        #expect(fast.total == 51 && fast.queueWait.p99 == 5000)
        #expect(slow.queueWait.p50 == 7500)
        let json = statistics.json(since: nil)
        guard case .array(let queues)? = json["queues"] else { Issue.record("\(json)"); return }
        #expect(queues.count == 2)
        #expect(queues.first?["queue_wait_ms"] == .object(["p50": .integer(2500), "p95": .integer(4800), "p99": .integer(5000)]))
    }

    @Test("retention deletes rows older than the cutoff in chunks and keeps the rest", arguments: StoreKind.allCases)
    func retention(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let old = (0..<25).map { makeResult("old-\($0)", finishedAt: isoAgo(10 * 86_400)) }
        let new = (0..<5).map { makeResult("new-\($0)", finishedAt: isoAgo(60)) }
        try await fixture.store.store(old + new)
        let cutoff = Date().addingTimeInterval(-86_400)
        var chunks: [Int] = []
        while true {
            let deleted = try await fixture.store.deleteResults(before: cutoff, limit: 10)
            chunks.append(deleted)
            if deleted < 10 { break }
        }
        let left = try await fixture.store.list(ResultQuery(limit: 100))
        let oldAttempts = try await fixture.store.attempts(of: "old-3")
        await fixture.close()
        #expect(chunks == [10, 10, 5])
        #expect(Set(left.map(\.id)) == Set(new.map(\.id)))
        #expect(oldAttempts.isEmpty)
    }

    @Test("a workflow run is saved and read back whole, saved again in place, and deleted by retention; steps are read by their ids",
          arguments: StoreKind.allCases)
    func workflowRuns(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        let definition = WorkflowDefinition(name: "etl", steps: [WorkflowStep(name: "a", task: "t", args: .object(["x": .string("{args.x}")])),
                                                                 WorkflowStep(name: "b", task: "t", after: ["a"], queue: "q2")],
                                            onFailure: .continue, queue: "q")
        var run = WorkflowRun(id: "run/1@2026", definition: definition, args: .object(["x": .integer(1)]), queue: "default", startedMs: 1_000)
        run.schedule = "nightly"
        let missing = try await fixture.store.workflowRun(run.id)
        try await fixture.store.saveWorkflowRun(run)
        let saved = try await fixture.store.workflowRun(run.id)
        run.published = ["a"]
        run.status = .succeeded
        run.finishedMs = 2_000
        try await fixture.store.saveWorkflowRun(run)
        let updated = try await fixture.store.workflowRun(run.id)
        try await fixture.store.store([makeResult("run/1@2026/a"), makeResult("run/1@2026/b"), makeResult("run/1@2026"), makeResult("other")])
        let steps = try await fixture.store.latest(ofIDs: run.stepTaskIDs + ["no-such-id"])
        let none = try await fixture.store.latest(ofIDs: [])
        _ = try await fixture.store.deleteResults(before: Date().addingTimeInterval(60), limit: 100)
        let gone = try await fixture.store.workflowRun(run.id)
        await fixture.close()
        #expect(missing == nil)
        #expect(saved?.published == [] && saved?.status == nil && saved?.definition == definition && saved?.schedule == "nightly")
        #expect(updated == run)
        #expect(Set(steps.map(\.id)) == ["run/1@2026/a", "run/1@2026/b"])
        #expect(none.isEmpty)
        #expect(gone == nil, "retention deletes runs last changed before the cutoff")
    }

    @Test("schema migrations are versioned; opening again keeps the data and the version", arguments: StoreKind.allCases)
    func migrations(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        try await fixture.store.store([makeResult("m-1")])
        let version = try await fixture.store.schemaVersion()
        let again = try await ResultStores.openForWriting(fixture.address, logger: Logger(label: "test"))
        let reader = try await ResultStores.openForReading(fixture.address, logger: Logger(label: "test"))
        let versionAgain = try await again.schemaVersion()
        let read = try await reader.list(ResultQuery())
        await again.close()
        await reader.close()
        await fixture.close()
        #expect(version == 8)
        #expect(versionAgain == 8)
        #expect(read.map(\.id) == ["m-1"])
    }

    @Test("a reader refuses a store that is missing or was never migrated, saying which and why")
    func readerErrors() async throws {
        let logger = Logger(label: "test")
        let missing = "/tmp/warren-no-such-dir-\(UUID().uuidString)/r.sqlite"
        await #expect(throws: ResultStoreError("sqlite:\(missing): no such file (has `warren backend --store sqlite:\(missing)` run?)")) {
            _ = try await ResultStores.openForReading(.sqlite(path: missing), logger: logger)
        }
        let database = try await TestPostgresDatabase.create()
        defer { database.drop() }
        let address = try StoreAddress(parsing: database.url)
        await #expect(throws: ResultStoreError("\(address): schema not up to date; start `warren backend` on it once to migrate")) {
            _ = try await ResultStores.openForReading(address, logger: logger)
        }
        let unreachable = try StoreAddress(parsing: "postgres://warren:secret@127.0.0.1:1/results")
        do {
            _ = try await ResultStores.openForWriting(unreachable, logger: logger)
            Issue.record("opened an unreachable store")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("postgres://warren:***@127.0.0.1:1/results: "))
            #expect(!text.contains("secret"))
        }
    }
}
