import Foundation
import Testing
import WarrenCore
import WarrenStore
import WarrenTestSupport

/// `warren publish --batch` followed: the ids it prints, the batch id every task carries into its
/// results and the store, and `--wait`'s summary and exit status (real binary, real broker).
@Suite("warren publish --batch: ids, batch id, --wait (real binary, real broker)")
struct BatchPublishTests {
    /// A JSON-lines file of `lines`, removed by the caller.
    static func file(_ lines: [String]) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString).jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    static func isUUID(_ text: String) -> Bool { UUID(uuidString: text) != nil && text == text.lowercased() }

    @Test("the ids are printed in file order (given ones, and new UUIDs for lines without); --ids writes them instead; stderr names the batch and warns of idle queues once each")
    func ids() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url]
        let file = try Self.file([
            #"{"task": "warren.echo", "queue": "ids-a", "id": "given-1"}"#,
            #"{"task": "warren.echo", "queue": "ids-a"}"#,
            "# a comment",
            #"{"task": "warren.echo", "queue": "ids-b", "id": "given-3"}"#,
            #"{"task": "warren.echo", "queue": "ids-a", "delay": "1h"}"#,
        ])
        let idsFile = FileManager.default.temporaryDirectory.appendingPathComponent("ids-\(UUID().uuidString).txt")
        let named = try await runWarren(["publish", "--batch", file.path, "--batch-id", "nightly-import-7"], environment: environment)
        let written = try await runWarren(["publish", "--batch", file.path, "--ids", idsFile.path], environment: environment)
        let idsText = (try? String(contentsOf: idsFile, encoding: .utf8)) ?? ""
        vhost.delete()
        try? FileManager.default.removeItem(at: file)
        try? FileManager.default.removeItem(at: idsFile)

        #expect(named.status == 0)
        let printed = Self.lines(named.stdout)
        #expect(printed.count == 4)
        #expect(printed.first == "given-1")
        #expect(printed.dropFirst(2).first == "given-3")
        #expect([printed[1], printed[3]].allSatisfy(Self.isUUID), "lines without an id get new UUIDs: \(printed)")
        #expect(Set(printed).count == 4)
        #expect(named.stderr == """
            batch nightly-import-7: 4 of 4 tasks from \(file.path) confirmed
            warren publish: warning: no worker consumes queue "ids-a"; its tasks wait there until one does
            warren publish: warning: no worker consumes queue "ids-b"; its tasks wait there until one does

            """)

        #expect(written.status == 0)
        #expect(written.stdout == "", "with --ids nothing goes to standard output")
        let fromFile = Self.lines(idsText)
        #expect(fromFile.count == 4 && fromFile[0] == "given-1" && fromFile[2] == "given-3" && Self.isUUID(fromFile[1]) && Self.isUUID(fromFile[3]))
        #expect(idsText.hasSuffix("\n"))
        #expect(Set(fromFile).isDisjoint(with: [printed[1], printed[3]]), "each run makes new ids")
        let summary = try #require(Self.lines(written.stderr).first)
        let batchID = try #require(summary.split(separator: ":").first?.split(separator: " ").last.map(String.init))
        #expect(Self.isUUID(batchID), "without --batch-id the batch gets a new UUID: \(summary)")
        #expect(summary == "batch \(batchID): 4 of 4 tasks from \(file.path) confirmed")
    }

    @Test("--batch --wait: exit 1 and a row for the failed task when one fails, 0 when all succeed, 2 within the timeout when no worker runs them")
    func wait() async throws {
        let vhost = try await TestVirtualHost.create()
        let environment = ["WARREN_AMQP_URL": vhost.url, "COLUMNS": "120"]
        let worker = try WarrenProcess(["worker", "--queue", "batch-work", "--log-level", "warning"], environment: environment)
        try await waitUntil("the worker consuming batch-work") { try await vhost.consumers(of: "batch-work") == 1 }
        let mixedFile = try Self.file([
            #"{"task": "warren.echo", "queue": "batch-work", "id": "mixed-1"}"#,
            #"{"task": "warren.fail", "queue": "batch-work", "id": "mixed-2", "args": {"message": "disk full"}}"#,
            #"{"task": "warren.echo", "queue": "batch-work", "id": "mixed-3"}"#,
        ])
        let goodFile = try Self.file((1...5).map { #"{"task": "warren.echo", "queue": "batch-work", "args": {"n": \#($0)}}"# })
        let idleFile = try Self.file([#"{"task": "warren.echo", "queue": "batch-idle"}"#, #"{"task": "warren.echo", "queue": "batch-idle"}"#])
        let mixed = try await runWarren(["publish", "--batch", mixedFile.path, "--wait", "--timeout", "60s"], environment: environment)
        let good = try await runWarren(["publish", "--batch", goodFile.path, "--wait", "--timeout", "60s"], environment: environment)
        let started = ContinuousClock.now
        let idle = try await runWarren(["publish", "--batch", idleFile.path, "--wait", "--timeout", "2s"], environment: environment)
        let idleTook = ContinuousClock.now - started
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        vhost.delete()
        for file in [mixedFile, goodFile, idleFile] { try? FileManager.default.removeItem(at: file) }

        #expect(mixed.status == 1, "\(mixed)")
        let mixedLines = Self.lines(mixed.stdout)
        #expect(Array(mixedLines.prefix(3)) == ["mixed-1", "mixed-2", "mixed-3"], "the ids first, then the summary")
        #expect(mixedLines.contains("STATUS       TASKS"))
        #expect(mixedLines.contains("succeeded        2"))
        #expect(mixedLines.contains("failed           1"))
        let failedRow = try #require(mixedLines.dropFirst(3).first { $0.hasSuffix("mixed-2") }, "\(mixed.stdout)")
        #expect(failedRow.hasPrefix("failed     warren.fail"))
        #expect(failedRow.contains("disk full"))
        #expect(mixedLines.dropFirst(3).filter { $0.hasSuffix("mixed-1") || $0.hasSuffix("mixed-3") }.isEmpty, "succeeded tasks get no row")

        #expect(good.status == 0, "\(good)")
        let goodLines = Self.lines(good.stdout)
        #expect(goodLines.count == 5 + 2)
        #expect(goodLines.prefix(5).allSatisfy(Self.isUUID))
        #expect(Array(goodLines.suffix(2)) == ["STATUS       TASKS", "succeeded        5"])

        #expect(idle.status == 2, "\(idle)")
        #expect(idleTook < .seconds(30), "the wait ends at --timeout: \(idleTook)")
        #expect(Self.lines(idle.stdout).contains("no result        2"))
        #expect(idle.stderr.hasSuffix("warren publish: no final result within 2s for 2 of 2 tasks\n"), "\(idle.stderr)")
        #expect(idle.stderr.contains(#"warning: no worker consumes queue "batch-idle""#))
    }

    @Test("every task carries the batch id into its results and the store: results list --batch and GET /api/results?batch= list exactly that batch; results show names it")
    func stored() async throws {
        let document = try OpenAPIDocument.load()
        let harness = try await BackendHarness.make(.sqlite)
        let worker = try WarrenProcess(["worker", "--queue", "batch-store", "--log-level", "warning"], environment: harness.environment)
        let (backend, base) = try await HTTPAPITests.start(harness)
        try await waitUntil("the worker consuming batch-store") { try await harness.vhost.consumers(of: "batch-store") == 1 }
        // The third goes through the delay chain: the header travels with it.
        let first = try Self.file((1...2).map { #"{"task": "warren.echo", "queue": "batch-store", "id": "first-\#($0)"}"# }
                                  + [#"{"task": "warren.echo", "queue": "batch-store", "id": "first-3", "delay": "1s"}"#])
        let second = try Self.file([#"{"task": "warren.echo", "queue": "batch-store", "id": "second-1"}"#,
                                    #"{"task": "warren.fail", "queue": "batch-store", "id": "second-2"}"#])
        let publishedFirst = try await harness.warren(["publish", "--batch", first.path, "--batch-id", "batch-first", "--wait"])
        let publishedSecond = try await harness.warren(["publish", "--batch", second.path, "--batch-id", "batch-second", "--wait"])
        _ = try await harness.warren(["publish", "warren.echo", "--queue", "batch-store", "--id", "alone", "--wait"])
        try await waitUntil("six tasks stored") { (try? await harness.store.counts().tasks) == 6 }
        let listedFirst = try await harness.warren(["results", "list", "--batch", "batch-first", "--json"])
        let listedSecond = try await harness.warren(["results", "list", "--batch", "batch-second", "--json"])
        let shown = try await harness.warren(["results", "show", "second-2"])
        let shownAlone = try await harness.warren(["results", "show", "alone"])
        let api = try await HTTPAPITests.request("GET", "\(base)/api/results?batch=batch-first")
        worker.signal(SIGTERM)
        backend.signal(SIGTERM)
        _ = try await worker.wait()
        _ = try await backend.wait()
        await harness.close()
        for file in [first, second] { try? FileManager.default.removeItem(at: file) }

        #expect(publishedFirst.status == 0)
        #expect(publishedSecond.status == 1)
        let firstResults = try Self.lines(listedFirst.stdout).map { try TaskResult.decode(Data($0.utf8)) }
        #expect(Set(firstResults.map(\.id)) == ["first-1", "first-2", "first-3"])
        #expect(firstResults.allSatisfy { $0.batch == "batch-first" && $0.status == .succeeded })
        let secondResults = try Self.lines(listedSecond.stdout).map { try TaskResult.decode(Data($0.utf8)) }
        #expect(Set(secondResults.map(\.id)) == ["second-1", "second-2"])
        #expect(secondResults.allSatisfy { $0.batch == "batch-second" })
        #expect(shown.stdout.contains("\nbatch     batch-second\n"), "\(shown.stdout)")
        #expect(shownAlone.status == 0 && !shownAlone.stdout.contains("\nbatch "), "a task published alone has no batch line")
        #expect(api.status == 200)
        #expect(document.problems("get", "/api/results", status: 200, body: api.json) == [], "\(api.text)")
        guard case .object(let page) = api.json, case .array(let rows)? = page["results"] else { Issue.record("\(api.text)"); return }
        let apiIDs = rows.compactMap { row -> String? in if case .object(let fields) = row, case .string(let id)? = fields["id"] { return id } else { return nil } }
        #expect(Set(apiIDs) == ["first-1", "first-2", "first-3"])
        #expect(rows.allSatisfy { if case .object(let fields) = $0 { return fields["batch"] == .string("batch-first") } else { return false } })
    }
}
