import Foundation
import RabbitMQ
import Testing
import WarrenCore
import WarrenTestSupport

/// What a message can make a worker run: its catalog's tasks, with args as data, and nothing else.
@Suite("security: only catalog tasks run; args stay data (real binary, real broker)")
struct SecurityTests {
    /// Runs `body` against a worker with `catalog` on a fresh queue, then stops the worker and
    /// checks that the canary directory (where a successful injection would write) stays empty.
    static func withWorker(catalog yaml: String, queue: String,
                           _ body: (_ harness: WorkerHarness, _ canary: String) async throws -> Void) async throws {
        let canary = FileManager.default.temporaryDirectory.appendingPathComponent("warren-canary-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: canary, withIntermediateDirectories: true)
        let catalog = try WorkerTests().catalog(yaml)
        let harness = try await WorkerHarness.make(queue: queue)
        let worker = try harness.startWorker(["--tasks", catalog])
        try await body(harness, canary)
        worker.signal(SIGTERM)
        _ = try await worker.wait()
        await harness.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: canary) == [], "no injected command ran")
    }

    @Test("shell metacharacters, placeholder injection and extra fields in a message stay data; nothing else runs")
    func argsStayData() async throws {
        let catalog = """
            tasks:
              greet:
                run: ["/bin/echo", "{name}"]
              pair:
                run: ["/bin/echo", "{a}", "{b}"]
            """
        try await Self.withWorker(catalog: catalog, queue: "security") { harness, canary in
            let payloads = ["$(touch \(canary)/1)", "`touch \(canary)/2`", "; touch \(canary)/3", "| touch \(canary)/4",
                            "&& touch \(canary)/5", "x\ntouch \(canary)/6", "'; touch \(canary)/7; '", "\"; touch \(canary)/8; \"",
                            "${IFS}touch${IFS}\(canary)/9", "> \(canary)/10", "*", "~root", "$HOME", "-n"]
            var greetings: [(id: String, value: String)] = []
            for value in payloads {
                greetings.append((try await harness.publish("greet", args: .object(["name": .string(value)])), value))
            }
            // One pass: a value that looks like a placeholder is not filled again.
            let injected = try await harness.publish("pair", args: .object(["a": .string("{b}"), "b": .string("{a}")]))
            // Fields a catalog entry has, sent in the message: ignored, at the top level and in args.
            let extraID = "security-extra-\(UUID().uuidString)"
            let extra = #"{"task": "greet", "args": {"name": "plain", "run": ["/usr/bin/touch", "\#(canary)/11"], "cwd": "/"}, "#
                + #""run": ["/usr/bin/touch", "\#(canary)/12"], "env": {"LD_PRELOAD": "/tmp/evil.so"}}"#
            try await harness.publishRaw(Data(extra.utf8), properties: BasicProperties(deliveryMode: 2, messageID: extraID))

            for (id, value) in greetings {
                let result = try await harness.finalResult(id)
                #expect(result.status == .succeeded, "\(value): \(result.error ?? "")")
                // /bin/echo prints "-n" as an option (no newline): still the one argument, nothing run.
                #expect(result.output == (value == "-n" ? nil : value + "\n"), "\(value) arrives as one literal argument")
            }
            #expect(try await harness.finalResult(injected).output == "{b} {a}\n")
            #expect(try await harness.finalResult(extraID).output == "plain\n")
        }
    }

    @Test("task names that are paths, commands or near-misses of catalog names are rejected as unknown")
    func namesOutsideTheCatalog() async throws {
        let catalog = """
            tasks:
              greet:
                run: ["/bin/echo", "hello"]
            """
        try await Self.withWorker(catalog: catalog, queue: "names") { harness, canary in
            let names = ["/usr/bin/touch", "touch", "../../../usr/bin/touch", "greet/../../usr/bin/touch", "./greet", "greet ",
                         " greet", "GREET", "greet\u{0}", "/bin/sh", "sh -c 'touch \(canary)/x'", "warren.echo/../greet", "warren.*", "greet;touch"]
            var ids: [(id: String, name: String)] = []
            for name in names {
                ids.append((try await harness.publish(name, args: .object(["path": .string("\(canary)/y")])), name))
            }
            for (id, name) in ids {
                let result = try await harness.finalResult(id)
                #expect(result.status == .rejected, "\(name.debugDescription) is not a catalog task")
                #expect(result.output == nil)
                #expect(result.error?.hasPrefix("unknown task") == true, "\(name.debugDescription): \(result.error ?? "")")
            }
            // Dead letters come on their own queue and consumer: they may trail the results.
            try await waitUntil("\(names.count) dead letters") { harness.deadLetters.count >= names.count }
            let reasons = harness.deadLetters.compactMap { $0.headers[WireHeaders.deadLetterReason]?.stringValue }
            #expect(reasons == Array(repeating: "unknown-task", count: names.count))
        }
    }

    @Test("a task does not inherit the worker's WARREN_* variables (broker password, API token); its env entry still applies")
    func environmentStaysWithTheWorker() async throws {
        let catalog = try WorkerTests().catalog("""
            tasks:
              show-env:
                run: ["/usr/bin/env"]
                env: { WARREN_FOR_THE_TASK: given, TASK_SETTING: also-given }
            """)
        let harness = try await WorkerHarness.make(queue: "env")
        let token = "token-\(UUID().uuidString)"
        let worker = try WarrenProcess(["worker", "--queue", harness.queue, "--tasks", catalog, "--log-level", "warning"],
                                       environment: ["WARREN_AMQP_URL": WorkerHarness.url, "WARREN_API_TOKEN": token,
                                                     "WARREN_STORE": "postgres://warren:store-secret@db/warren"])
        let result = try? await harness.finalResult(try await harness.publish("show-env"))
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        await harness.close()
        let output = try #require(result?.output, "the worker said: \(exit.output)")
        let names = output.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) }
        #expect(names.filter { $0.hasPrefix("WARREN_") } == ["WARREN_FOR_THE_TASK"])
        #expect(output.contains("TASK_SETTING=also-given\n"))
        #expect(output.contains("PATH="), "the rest of the environment is inherited")
        #expect(!output.contains(token) && !output.contains("store-secret") && !output.contains(WorkerHarness.url))
    }
}
