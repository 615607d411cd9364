import Foundation
import Testing
import WarrenCore
import WarrenTestSupport

/// `--log-format json`, `--log-file`, task ids on task lines, and secrets kept out of logs,
/// metrics and process titles (real binaries, real broker).
@Suite("logging and secrets (real binaries, real broker)")
struct LoggingTests {
    @Test("--log-format json --log-file: one JSON object per line; a line about a task carries its task_id")
    func jsonLines() async throws {
        let vhost = try await TestVirtualHost.create()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString).log").path
        let worker = try WarrenProcess(["worker", "--queue", "logs", "--log-format", "json", "--log-file", file],
                                       environment: ["WARREN_AMQP_URL": vhost.url])
        try await waitUntil("the worker consuming") { try await vhost.depth(of: "logs") != nil }
        let published = try await runWarren(["publish", "no.such.task", "--queue", "logs", "--id", "log-me", "--wait", "--timeout", "20s"],
                                      environment: ["WARREN_AMQP_URL": vhost.url])
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        vhost.delete()
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: file)
        #expect(published.status == 1)
        #expect(exit.output.isEmpty, "nothing on stderr when --log-file is given: \(exit.output)")
        let lines = try text.split(separator: "\n").map { line -> [String: JSONValue] in
            guard case .object(let fields) = try JSONText.parse(Array(line.utf8)) else { throw ToolError(description: "not an object: \(line)") }
            return fields
        }
        #expect(lines.count >= 3)
        #expect(lines.allSatisfy { $0["time"] != nil && $0["level"] != nil && $0["message"] != nil && $0["label"] == .string("warren.worker") })
        let rejected = try #require(lines.first { $0["message"] == .string("task rejected") })
        #expect(rejected["task_id"] == .string("log-me"))
        #expect(rejected["reason"] == .string("unknown-task"))
        #expect(rejected["level"] == .string("warning"))
    }

    @Test("a password and an API token never reach logs (debug level), metrics, error messages or the process title")
    func secrets() async throws {
        let vhost = try await TestVirtualHost.create()
        let user = "warren-secret-\(UUID().uuidString.prefix(6).lowercased())"
        let password = "hunter2-\(UUID().uuidString)"
        _ = try await brokerCtl(["add_user", user, password])
        _ = try await brokerCtl(["set_permissions", "-p", vhost.name, user, ".*", ".*", ".*"])
        defer { brokerCtlInBackground(["delete_user", user]) }
        let url = vhost.url.replacingOccurrences(of: "guest:guest@", with: "\(user):\(password)@")
        let token = "token-\(UUID().uuidString)"
        let metricsPort = TestPorts.free()
        let httpPort = TestPorts.free()
        let fixture = try await StoreFixture.make(.sqlite)
        let backend = try WarrenProcess(["backend", "--log-level", "debug", "--metrics", "127.0.0.1:\(metricsPort)", "--http", "127.0.0.1:\(httpPort)"],
                                        environment: ["WARREN_AMQP_URL": url, "WARREN_API_TOKEN": token, "WARREN_STORE": fixture.argument])
        try await waitUntil("the backend serving") {
            (try? await HTTPAPITests.request("GET", "http://127.0.0.1:\(httpPort)/healthz"))?.status == 200
        }
        let refused = try await HTTPAPITests.request("POST", "http://127.0.0.1:\(httpPort)/api/tasks", body: #"{"task": "warren.echo"}"#,
                                                     headers: ["Authorization": "Bearer wrong"])
        let metrics = try await HTTPAPITests.request("GET", "http://127.0.0.1:\(metricsPort)/metrics")
        let title = try String(contentsOfFile: "/proc/\(backend.pid)/cmdline", encoding: .utf8)
        let badLogin = try await runWarren(["status"], environment: ["WARREN_AMQP_URL": url.replacingOccurrences(of: password, with: password + "x")])
        backend.signal(SIGTERM)
        let exit = try await backend.wait()
        await fixture.close()
        vhost.delete()
        #expect(exit.output.contains("debug"), "debug lines were written")
        #expect(exit.output.contains("\(user):***@"))
        #expect(refused.status == 401)
        for (what, text) in [("log", exit.output), ("metrics", metrics.text), ("process title", title), ("401 body", refused.text),
                             ("error message", badLogin.stderr)] {
            #expect(!text.contains(password), "the password appears in the \(what)")
            #expect(!text.contains(token), "the token appears in the \(what)")
        }
        #expect(badLogin.status == 1)
    }

    @Test("a bad --log-format or --log-file is a usage error naming the option")
    func badOptions() async throws {
        let format = try await runWarren(["worker", "--queue", "q", "--log-format", "xml"])
        let file = try await runWarren(["worker", "--queue", "q", "--log-file", "/nonexistent/dir/w.log"])
        #expect(format.status == 2)
        #expect(format.stderr == "warren: --log-format: expected text or json, got xml\n")
        #expect(file.status == 2)
        #expect(file.stderr == "warren: --log-file /nonexistent/dir/w.log: cannot open it for writing\n")
    }
}
