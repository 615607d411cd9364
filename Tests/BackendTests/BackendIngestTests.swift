import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenMessaging
import WarrenStore
import WarrenTestSupport

/// `warren backend` against a real broker and real stores: batches, acks after commit,
/// crashes, an unwritable store, unreadable results, retention, metrics, shutdown.
@Suite("warren backend (real binary, broker, SQLite and PostgreSQL)")
struct BackendIngestTests {
    @Test("a backend killed with SIGKILL mid-batch and restarted loses no result and stores none twice", arguments: StoreKind.allCases)
    func killedMidBatch(kind: StoreKind) async throws {
        let harness = try await BackendHarness.make(kind)
        let total = 20_000
        try await harness.publish(sampleResults("kill", count: total))
        let backend = try harness.startBackend(["--batch-size", "200"])
        try await waitUntil("some batches stored") { try await harness.counts().tasks >= 2000 }
        backend.signal(SIGKILL)
        _ = try await backend.wait()
        let atKill = try await harness.counts()
        #expect(atKill.tasks < total, "the kill came before the end")
        let restarted = try harness.startBackend(["--batch-size", "200"])
        try await harness.waitForCounts(tasks: total, attempts: total, timeout: .seconds(120))
        try await waitUntil("the results queue drained") { try await harness.vhost.depth(of: WireNames.resultsQueue).map { $0 == (0, 0) } ?? false }
        let sample = try await harness.store.attempts(of: "kill-4321")
        restarted.signal(SIGTERM)
        let exit = try await restarted.wait()
        await harness.close()
        #expect(sample.map(\.attempt) == [1])
        #expect(exit.status == 0)
    }

    @Test("results stay unacknowledged while the SQLite disk is full, one error is logged, and ingest resumes when space is freed")
    func diskFull() async throws {
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("warren-full-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try await runChecked("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.path])
        defer { Task { _ = try? await runProcess("/bin/umount", ["-l", mount.path]) } }
        let harness = try await BackendHarness.make(.sqlite, directory: mount)
        let backend = try harness.startBackend(["--batch-size", "100"])
        try await harness.publish(sampleResults("before", count: 100))
        try await harness.waitForCounts(tasks: 100, attempts: 100)
        // Fill the file system; SQLite's next write fails with SQLITE_FULL.
        let filler = mount.appendingPathComponent("filler").path
        _ = try? await runChecked("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"])  // stops when the disk is full
        try await harness.publish(sampleResults("during", count: 500))
        try await waitUntil("the backend reports the store unavailable") { backend.output.contains("result store unavailable") }
        try await waitUntil("the results held unacknowledged") { try await harness.vhost.depth(of: WireNames.resultsQueue)?.unacknowledged ?? 0 > 0 }
        // pg_terminate_backend closed the test's own store connections too: read once one is back.
        var read: StoredCounts?
        try await waitUntil("the test's own store connection back") {
            read = try? await harness.counts()
            return read != nil
        }
        let during = try #require(read)
        try FileManager.default.removeItem(atPath: filler)
        try await harness.waitForCounts(tasks: 600, attempts: 600)
        try await waitUntil("the backend reports the store back") { backend.output.contains("result store available again") }
        try await waitUntil("the results queue drained") { try await harness.vhost.depth(of: WireNames.resultsQueue).map { $0 == (0, 0) } ?? false }
        backend.signal(SIGTERM)
        let exit = try await backend.wait()
        await harness.close()
        #expect(during == StoredCounts(tasks: 100, attempts: 100))
        #expect(exit.output.components(separatedBy: "result store unavailable").count - 1 == 1, "one error line for the outage")
        #expect(exit.output.contains("database or disk is full"))
        #expect(exit.status == 0)
    }

    @Test("results stay in the broker while PostgreSQL refuses writes, and ingest resumes when it accepts them again")
    func postgresReadOnly() async throws {
        let harness = try await BackendHarness.make(.postgres)
        let database = try #require(harness.fixture.argument.split(separator: "/").last.map(String.init))
        // At debug level the writer logs each failure, not only the first: the first can be the
        // terminated connection (a write in flight), and the read-only refusal only a retry.
        let backend = try harness.startBackend(["--batch-size", "100", "--log-level", "debug"])
        try await harness.publish(sampleResults("before", count: 100))
        try await harness.waitForCounts(tasks: 100, attempts: 100)
        try await TestPostgresDatabase.psql("ALTER DATABASE \(database) SET default_transaction_read_only = on")
        try await TestPostgresDatabase.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
        try await harness.publish(sampleResults("during", count: 300))
        try await waitUntil("the backend refused by the read-only store") { backend.output.contains("read-only transaction") }
        // pg_terminate_backend closed the test's own store connections too: read once one is back.
        var read: StoredCounts?
        try await waitUntil("the test's own store connection back") {
            read = try? await harness.counts()
            return read != nil
        }
        let during = try #require(read)
        try await TestPostgresDatabase.psql("ALTER DATABASE \(database) RESET default_transaction_read_only")
        try await TestPostgresDatabase.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
        // The backend's pool reconnects and its writer retries (at most every 5 s); a CI run with
        // every suite at once once took longer than a minute here.
        try await harness.waitForCounts(tasks: 400, attempts: 400, timeout: .seconds(150), backend: backend)
        try await waitUntil("the backend reports the store back") { backend.output.contains("result store available again") }
        backend.signal(SIGTERM)
        let exit = try await backend.wait()
        await harness.close()
        #expect(during.tasks == 100)
        #expect(exit.output.contains("read-only transaction"))
        #expect(exit.output.components(separatedBy: "result store unavailable").count - 1 == 1)
        #expect(exit.status == 0)
    }

    @Test("unreadable result messages are dead-lettered with the reason; the good ones around them are stored")
    func malformed() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let backend = try harness.startBackend()
        try await harness.publish(sampleResults("good-a", count: 5))
        try await harness.publishRaw(Data("not json".utf8))
        try await harness.publishRaw(Data(#"{"task":"x","status":"succeeded"}"#.utf8))
        try await harness.publishRaw(Data(#"{"id":"a","task":"x","status":"exploded"}"#.utf8))
        try await harness.publishRaw(Data(repeating: UInt8(ascii: "x"), count: 5 << 20))
        try await harness.publish(sampleResults("good-b", count: 5))
        try await harness.waitForCounts(tasks: 10, attempts: 10)
        try await waitUntil("four dead letters") { try await harness.vhost.depth(of: WireNames.deadLetterQueue)?.ready == 4 }
        let channel = try await harness.connection.openChannel(confirms: false)
        try await channel.setPrefetch(10)
        var iterator = try await channel.consume(queue: WireNames.deadLetterQueue).makeAsyncIterator()
        var reasons: [String] = []
        while reasons.count < 4, let delivery = await iterator.next() {
            let headers = delivery.properties.headers ?? [:]
            reasons.append("\(headers[WireHeaders.deadLetterReason]?.stringValue ?? "?"): \(headers[WireHeaders.deadLetterError]?.stringValue ?? "?")")
            try delivery.ack()
        }
        let running = backend.isRunning
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
        #expect(running)
        #expect(reasons.sorted() == [
            "malformed: a result needs \"id\" and \"task\"",
            "malformed: a result needs a known \"status\"",
            "malformed: invalid JSON at byte 0: unexpected character",
            "too-large: a result of 5242880 bytes is over the limit of 4194304",
        ])
    }

    @Test("a result PostgreSQL refuses (attempt beyond 32 bits) is dead-lettered as unstorable; the rest is stored and ingest goes on")
    func refusedByStore() async throws {
        let harness = try await BackendHarness.make(.postgres)
        let backend = try harness.startBackend()
        var huge = makeResult("refused-attempt", finishedAt: isoAgo(1))
        huge.attempt = 2_147_483_648
        try await harness.publish(sampleResults("before", count: 5) + [huge] + sampleResults("after", count: 5))
        try await harness.waitForCounts(tasks: 10, attempts: 10, timeout: .seconds(30))
        try await waitUntil("a dead letter") { try await harness.vhost.depth(of: WireNames.deadLetterQueue)?.ready == 1 }
        // Ingest goes on after it.
        try await harness.publish(sampleResults("later", count: 2))
        try await harness.waitForCounts(tasks: 12, attempts: 12, timeout: .seconds(30))
        let channel = try await harness.connection.openChannel(confirms: false)
        var iterator = try await channel.consume(queue: WireNames.deadLetterQueue).makeAsyncIterator()
        let letter = try #require(await iterator.next())
        try letter.ack()
        let headers = letter.properties.headers ?? [:]
        #expect(try TaskResult.decode(letter.body).id == "refused-attempt")
        #expect(headers[WireHeaders.deadLetterReason]?.stringValue == "unstorable")
        #expect(headers[WireHeaders.deadLetterError]?.stringValue?.hasSuffix("value \"2147483648\" is out of range for type integer (SQLSTATE 22003)") == true)
        #expect(try await harness.store.latest(of: "refused-attempt") == nil)
        #expect(backend.isRunning)
        backend.signal(SIGTERM)
        #expect(try await backend.wait().status == 0)
        #expect(backend.output.contains("result store refuses result refused-attempt attempt 2147483648"))
        #expect(!backend.output.contains("result store unavailable"))
        await harness.close()
    }

    @Test("retention deletes results older than --retain and keeps the recent ones", arguments: StoreKind.allCases)
    func retention(kind: StoreKind) async throws {
        let harness = try await BackendHarness.make(kind)
        let old = (0..<50).map { makeResult("old-\($0)", finishedAt: isoAgo(3 * 86_400)) }
        try await harness.publish(old + sampleResults("new", count: 20))
        let backend = try harness.startBackend(["--retain", "2d", "--retention-interval", "500ms"])
        try await waitUntil("old results deleted") {
            let counts = try await harness.counts()
            let left = try await harness.store.list(ResultQuery(limit: 100))
            return counts == StoredCounts(tasks: 20, attempts: 20) && left.allSatisfy { $0.id.hasPrefix("new-") }
        }
        try await waitUntil("retention logged") { backend.output.contains("retention deleted") }
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
    }

    @Test("metrics: results stored, batches, store availability and broker connection")
    func metrics() async throws {
        let harness = try await BackendHarness.make(.sqlite)
        let port = TestPorts.free()
        let backend = try harness.startBackend(["--metrics", "127.0.0.1:\(port)"])
        try await harness.publish(sampleResults("m", count: 250))
        try await harness.waitForCounts(tasks: 250, attempts: 250)
        var text = ""
        try await waitUntil("metrics show 250 stored") {
            text = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)) ?? ""
            return prometheusSample(text, "warren_backend_results_stored_total") == 250
        }
        backend.signal(SIGTERM)
        _ = try await backend.wait()
        await harness.close()
        #expect((prometheusSample(text, "warren_backend_batches_total") ?? 0) >= 1)
        #expect(prometheusSample(text, "warren_backend_store_available") == 1)
        #expect(prometheusSample(text, "warren_broker_connected") == 1)
        #expect(prometheusSample(text, "warren_backend_store_errors_total") ?? 0 == 0)
    }

    @Test("bad arguments get one line naming the argument and exit 2", arguments: [
        (["backend", "--store", "mysql://x"], "warren: --store: expected sqlite:PATH or postgres://USER@HOST:PORT/DATABASE\n"),
        (["backend", "--retain", "10s"], "warren: --retain: at least 1m, or \"off\"\n"),
        (["backend", "--batch-size", "0"], "warren: --batch-size: expected 1 to 10000, got 0\n"),
        (["backend", "--batch-delay", "soon"], "warren: --batch-delay: invalid duration \"soon\": expected a number at position 1\n"),
    ])
    func badArguments(arguments: [String], message: String) async throws {
        let result = try await runWarren(arguments, environment: ["WARREN_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"])
        #expect(result.status == 2)
        #expect(result.stderr == message)
    }
}

/// Runs a system tool and fails when it does.
struct ToolError: Error, CustomStringConvertible {
    let description: String
}
