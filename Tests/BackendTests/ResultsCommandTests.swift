import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// `warren results list|show|tail|stats` reading a real store, as a user runs them.
@Suite("warren results (real binary, SQLite and PostgreSQL)")
struct ResultsCommandTests {
    /// Three task ids: one retried then succeeded with output, one failed on schedule, one old.
    static func seed(_ store: any ResultStore) async throws {
        var retry = makeResult("r-1", task: "reports.generate", attempt: 1, status: .retrying, finishedAt: isoAgo(120), durationMs: 1500)
        retry.error = "exit status 1"
        retry.args = .object(["format": .string("pdf")])
        var done = makeResult("r-1", task: "reports.generate", attempt: 2, status: .succeeded, finishedAt: isoAgo(60), durationMs: 2500)
        done.output = "rows: 12\nwritten"
        done.exitCode = 0
        done.args = .object(["format": .string("pdf")])
        var failed = makeResult("r-2", task: "billing.charge", status: .failed, schedule: "nightly", finishedAt: isoAgo(30), durationMs: 40)
        failed.error = "card declined"
        let old = makeResult("r-3", task: "billing.charge", finishedAt: isoAgo(3 * 86_400), durationMs: 10)
        try await store.store([retry, done, failed, old])
    }

    static let fields: Set<String> = ["id", "task", "queue", "schedule", "scheduled_for", "attempt", "status", "worker", "started_at",
                                      "finished_at", "duration_ms", "exit_code", "output", "error", "result", "traceparent", "run_id",
                                      "redelivered", "trigger", "batch", "published_at", "args"]

    @Test("list: a table, newest first, one row per task id; --json has every field; filters apply", arguments: StoreKind.allCases)
    func list(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        try await Self.seed(fixture.store)
        let environment = ["WARREN_STORE": fixture.argument, "COLUMNS": "100"]
        let table = try await runWarren(["results", "list"], environment: environment)
        let json = try await runWarren(["results", "list", "--json"], environment: environment)
        let failed = try await runWarren(["results", "list", "--status", "failed", "--json"], environment: environment)
        let recentBilling = try await runWarren(["results", "list", "--task", "billing.charge", "--since", "1h", "--json"], environment: environment)
        let scheduled = try await runWarren(["results", "list", "--schedule", "nightly", "--json"], environment: environment)
        let limited = try await runWarren(["results", "list", "--limit", "1", "--json"], environment: environment)
        await fixture.close()
        let lines = table.stdout.split(separator: "\n")
        #expect(table.status == 0)
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(lines[0].hasPrefix("FINISHED (UTC)       STATUS         TOOK  TRY  TASK"))
        #expect(lines[1].contains("failed") && lines[1].contains("40ms") && lines[1].contains("billing.charge") && lines[1].contains("nightly"))
        #expect(lines[2].contains("succeeded") && lines[2].contains("2.50s") && lines[2].contains("    2  reports.generate"))
        let objects = try json.stdout.split(separator: "\n").map { line -> [String: JSONValue] in
            guard case .object(let fields) = try JSONText.parse(Array(line.utf8)) else { throw ToolError(description: "not an object") }
            return fields
        }
        #expect(objects.map { $0["id"] } == [.string("r-2"), .string("r-1"), .string("r-3")])
        #expect(objects.allSatisfy { Set($0.keys) == Self.fields })
        #expect(objects[1]["attempt"] == .integer(2))
        #expect(objects[1]["output"] == .string("rows: 12\nwritten"))
        #expect(objects[0]["schedule"] == .string("nightly"))
        #expect(objects[0]["scheduled_for"] == .string("2026-11-23T10:00:00+01:00"))
        #expect(objects[1]["schedule"] == .null)
        #expect(try ids(failed.stdout) == ["r-2"])
        #expect(try ids(recentBilling.stdout) == ["r-2"])
        #expect(try ids(scheduled.stdout) == ["r-2"])
        #expect(try ids(limited.stdout) == ["r-2"])
    }

    @Test("show: every attempt with its times, error and output; an unknown id exits 1")
    func show() async throws {
        let fixture = try await StoreFixture.make(.sqlite)
        try await Self.seed(fixture.store)
        let environment = ["WARREN_STORE": fixture.argument]
        let text = try await runWarren(["results", "show", "r-1"], environment: environment)
        let json = try await runWarren(["results", "show", "r-1", "--json"], environment: environment)
        let unknown = try await runWarren(["results", "show", "nope"], environment: environment)
        await fixture.close()
        #expect(text.status == 0)
        #expect(text.stdout.contains("id        r-1\ntask      reports.generate\nqueue     reports\nargs      {\"format\":\"pdf\"}\n"), "what it was called with")
        #expect(text.stdout.contains("attempt 1: retrying (ran 1.50s)\n  worker    host:1\n"), "the run time, not read as the delay before the retry")
        #expect(text.stdout.contains("  error     exit status 1\n"))
        #expect(text.stdout.contains("attempt 2: succeeded (ran 2.50s)\n"))
        #expect(text.stdout.contains("  exit code 0\n"))
        #expect(text.stdout.contains("  output:\n    | rows: 12\n    | written"))
        #expect(try statuses(json.stdout) == ["retrying", "succeeded"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "warren results show: no result stored for task id nope\n")
    }

    @Test("show: an attempt that ran twice is listed once per run, the redelivered run marked; a lone redelivered run too", arguments: StoreKind.allCases)
    func showRuns(kind: StoreKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        var first = makeResult("twice", attempt: 1, status: .retrying, finishedAt: isoAgo(50))
        first.runID = "00000000000000a1"
        var second = makeResult("twice", attempt: 1, status: .retrying, finishedAt: isoAgo(40))
        second.runID = "00000000000000b2"
        second.redelivered = true
        var next = makeResult("twice", attempt: 2, status: .succeeded, finishedAt: isoAgo(30))
        next.runID = "00000000000000c3"
        next.redelivered = true
        try await fixture.store.store([next, second, first])
        let environment = ["WARREN_STORE": fixture.argument]
        let text = try await runWarren(["results", "show", "twice"], environment: environment)
        let json = try await runWarren(["results", "show", "twice", "--json"], environment: environment)
        await fixture.close()
        #expect(text.status == 0)
        #expect(text.stdout.contains("attempt 1, run 1: retrying (ran 100ms)\n  run       00000000000000a1\n"), "\(text.stdout)")
        #expect(text.stdout.contains("attempt 1, run 2 (redelivered): retrying (ran 100ms)\n  run       00000000000000b2\n"))
        #expect(text.stdout.contains("attempt 2 (redelivered): succeeded (ran 100ms)\n  run       00000000000000c3\n"))
        let runs = try json.stdout.split(separator: "\n").map { try TaskResult.decode(Data($0.utf8)) }
        #expect(runs.map { "\($0.attempt)/\($0.runID ?? "-")/\($0.redelivered)" }
                == ["1/00000000000000a1/false", "1/00000000000000b2/true", "2/00000000000000c3/true"])
    }

    @Test("stats: counts, success rate and p50/p95 per task and per schedule over --since")
    func stats() async throws {
        let fixture = try await StoreFixture.make(.sqlite)
        try await Self.seed(fixture.store)
        let environment = ["WARREN_STORE": fixture.argument, "COLUMNS": "140"]
        let table = try await runWarren(["results", "stats"], environment: environment)
        let week = try await runWarren(["results", "stats", "--since", "7d", "--json"], environment: environment)
        await fixture.close()
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("KIND      NAME") == true)
        #expect(lines.contains { $0.hasPrefix("task      billing.charge") && $0.contains("1        0        1     0.0%      40ms      40ms      40ms") },
                "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("task      reports.generate") && $0.contains("1        1        0   100.0%     2.50s     2.50s     2.50s") })
        #expect(lines.first?.hasSuffix("P99   WAIT P50   WAIT P95   WAIT P99") == true, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("queue     reports") }, "a group per queue")
        #expect(lines.contains { $0.hasPrefix("schedule  nightly") })
        guard case .object(let object) = try JSONText.parse(Array(week.stdout.utf8)),
              case .array(let tasks)? = object["tasks"] else { Issue.record("stats --json: \(week.stdout)"); return }
        #expect(tasks.count == 2)
        #expect(tasks.first == .object(["name": .string("billing.charge"), "total": .integer(2),
                                        "by_status": .object(["failed": .integer(1), "succeeded": .integer(1)]),
                                        "success_rate": .number(0.5), "p50_ms": .integer(10), "p95_ms": .integer(40), "p99_ms": .integer(40),
                                        "queue_wait_ms": .object(["p50": .null, "p95": .null, "p99": .null]),
                                        "end_to_end_ms": .object(["p50": .null, "p95": .null, "p99": .null])]))
    }

    @Test("tail: prints the last attempts, then each new one as it is stored, filtered; -n as --lines; ids are never cut")
    func tail() async throws {
        let longID = "live-2-" + String(repeating: "0123456789", count: 8)
        let fixture = try await StoreFixture.make(.sqlite)
        try await Self.seed(fixture.store)
        // Every earlier attempt first: whether this process starts before the live results are
        // stored or after (nothing it prints shows when it has started), it prints the same.
        let tail = try WarrenProcess(["results", "tail", "--json", "--lines", "1000", "--interval", "100ms", "--task", "live"],
                                     environment: ["WARREN_STORE": fixture.argument])
        let all = try WarrenProcess(["results", "tail", "-n", "2", "--interval", "100ms"],
                                    environment: ["WARREN_STORE": fixture.argument, "COLUMNS": "120"])
        try await waitUntil("the last two attempts printed") { all.output.split(separator: "\n").count == 3 }
        try await fixture.store.store([makeResult("live-1", task: "live"), makeResult("other", task: "other")])
        try await fixture.store.store([makeResult(longID, task: "live", status: .failed)])
        try await waitUntil("three new lines") { all.output.split(separator: "\n").count == 6 }
        do {
            try await waitUntil("the two live results") { tail.output.split(separator: "\n").count == 2 }
        } catch {
            Issue.record("tail printed: [\(tail.output)] all printed: [\(all.output)]")
            throw error
        }
        tail.signal(SIGTERM)
        all.signal(SIGTERM)
        let lines = all.output.split(separator: "\n")
        let live = try ids(tail.output)
        _ = try await tail.wait()
        _ = try await all.wait()
        await fixture.close()
        #expect(lines[1].contains("billing.charge") && lines[1].contains("r-2"))
        #expect(lines[2].contains("billing.charge") && lines[2].contains("r-3"))
        #expect(lines[3].contains("live-1") && lines[4].contains("other"))
        #expect(lines[5].hasSuffix("  " + longID), "the whole id, to paste: \(lines[5])")
        #expect(live == ["live-1", longID])
    }

    @Test("bad arguments and missing stores get one line: exit 2 for usage, 1 for the store", arguments: [
        (["results", "list", "--status", "great"], 2,
         "warren: --status great: expected one of succeeded, failed, retrying, timed_out, cancelled, expired, rejected, skipped, missed\n"),
        (["results", "list", "--since", "last week"], 2,
         "warren: --since last week: expected a duration such as 1h or an ISO-8601 time such as 2026-11-23T10:00:00Z\n"),
        (["results", "list", "--limit", "0"], 2, "warren: --limit: expected a positive number, got 0\n"),
        (["results", "list", "--store", "sqlite:/nonexistent/r.sqlite"], 1,
         "warren results list: sqlite:/nonexistent/r.sqlite: no such file (has `warren backend --store sqlite:/nonexistent/r.sqlite` run?)\n"),
        (["results", "stats", "--store", "postgres://u:secret@127.0.0.1:1/db"], 1,
         "warren results stats: postgres://u:***@127.0.0.1:1/db: cannot connect: connection refused\n"),
    ])
    func badInput(arguments: [String], status: Int32, message: String) async throws {
        let result = try await runWarren(arguments, environment: ["WARREN_STORE": "sqlite:/nonexistent/r.sqlite"])
        #expect(result.status == status)
        #expect(result.stderr == message)
        #expect(result.stdout == "")
    }
}

/// The `id` of each JSON line.
func ids(_ jsonLines: String) throws -> [String] {
    try jsonLines.split(separator: "\n").map { try TaskResult.decode(Data($0.utf8)).id }
}

/// The `status` of each JSON line.
func statuses(_ jsonLines: String) throws -> [String] {
    try jsonLines.split(separator: "\n").map { try TaskResult.decode(Data($0.utf8)).status.rawValue }
}
