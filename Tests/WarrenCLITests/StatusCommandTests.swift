import Foundation
import Testing
import WarrenTestSupport

@Suite("warren status (real binary, real broker)")
struct StatusCommandTests {
    let url = ProcessInfo.processInfo.environment["WARREN_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5673/"

    @Test("reports the broker reachable without showing the password")
    func reachable() async throws {
        let result = try await runWarren(["status", "--amqp-url", url])
        #expect(result.status == 0)
        #expect(result.stdout.contains("reachable"))
        #expect(result.stdout.contains("guest:***@"))
        #expect(!result.stdout.contains("guest:guest"))
    }

    @Test("a missing queue is shown and exits 1")
    func missingQueue() async throws {
        let result = try await runWarren(["status", "--amqp-url", url, "--queue", "warren.test.no-such-queue"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("warren.test.no-such-queue"))
        #expect(result.stdout.contains("warren.test.no-such-queue") && result.stdout.contains("missing"))
    }

    @Test("an unreachable broker exits 1 with one line on stderr")
    func unreachable() async throws {
        let result = try await runWarren(["status"], environment: ["WARREN_AMQP_URL": "amqp://guest:secret@127.0.0.1:1/"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("warren status: broker unreachable: cannot connect to amqp://guest:***@127.0.0.1:1/"))
        #expect(!result.stderr.contains("secret"))
    }

    @Test("a malformed URL is a usage error (exit 2) naming --amqp-url")
    func badURL() async throws {
        let result = try await runWarren(["status", "--amqp-url", "http://h:pw@x/"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--amqp-url"))
        #expect(result.stderr.contains("it must start with amqp:// or amqps://"))
        #expect(!result.stderr.contains(":pw@"))
    }
}
