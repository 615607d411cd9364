import Foundation
import Testing
import WarrenTestSupport

/// `warren publish` input errors: exit 2, one line naming the argument, nothing published.
@Suite("warren publish input errors (real binary)")
struct PublishCommandTests {
    @Test("each bad argument gets its one-line error", arguments: [
        (["warren.echo", "--args-json", "{"], "warren: --args-json: invalid JSON at byte 1: expected a string key\n"),
        (["warren.echo", "--arg", "novalue"], "warren: --arg novalue: expected key=value\n"),
        (["warren.echo", "--arg", "a=1", "--args-json", "{}"], "warren: give only one of --arg, --args-json and --args-file\n"),
        (["warren.echo", "--priority", "12"], "warren: --priority: expected 0 to 9, got 12\n"),
        (["warren.echo", "--delay", "soon"], "warren: --delay: invalid duration \"soon\": expected a number at position 1\n"),
        (["rm -rf", "--queue", "q"], "warren: TASK \"rm -rf\": use letters, digits, \".\", \"_\", \"-\" and \":\"\n"),
        (["warren.echo", "--queue", "amq.x"], "warren: --queue amq.x: queue names starting with \"amq.\" are reserved by the broker\n"),
        (["--batch", "/nonexistent.jsonl", "--batch-id", ""], "warren: --batch-id: expected 1 to 200 bytes\n"),
        (["--batch", "/nonexistent.jsonl", "--batch-id", "a\tb"], "warren: --batch-id: control characters are not allowed\n"),
        (["warren.echo", "--batch-id", "b"], "warren: --batch-id needs --batch FILE\n"),
        (["warren.echo", "--ids", "ids.txt"], "warren: --ids needs --batch FILE\n"),
        (["--batch", "/nonexistent.jsonl", "--wait", "--timeout", "x"], "warren: --timeout: invalid duration \"x\": expected a number at position 1\n"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        let result = try await runWarren(["publish"] + arguments, environment: ["WARREN_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"])
        #expect(result.status == 2)
        #expect(result.stderr == message)
        #expect(result.stdout == "")
    }
}
