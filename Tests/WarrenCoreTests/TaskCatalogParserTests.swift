import Testing
@testable import WarrenCore

/// Task catalogs: what a good file gives, and the error each bad input gets.
@Suite struct TaskCatalogParserTests {
    func parse(_ yaml: String) -> (tasks: [TaskDefinition], errors: [String]) {
        let result = TaskCatalogParser.parse(yaml: yaml, file: "t.yaml")
        return (result.tasks, result.errors.map(\.description))
    }

    @Test func aFullTask() throws {
        let (tasks, errors) = parse("""
            tasks:
              reports.generate:
                run: ["/usr/local/bin/report", "--format", "{format}", 3]
                env: { REPORT_DIR: /var/reports }
                cwd: /var/reports
                timeout: 15m
                kill_after: 5s
                retry: { attempts: 5, backoff: 30s, max_backoff: 1h, jitter: false }
                max_output: 1MiB
            """)
        #expect(errors == [])
        let task = try #require(tasks.first)
        #expect(task.name == "reports.generate")
        #expect(task.kind == .run(RunSpecification(arguments: ["/usr/local/bin/report", "--format", "{format}", "3"],
                                                  environment: ["REPORT_DIR": "/var/reports"], workingDirectory: "/var/reports")))
        #expect(task.timeout == .seconds(900))
        #expect(task.killAfter == .seconds(5))
        #expect(task.retry == RetryPolicy(attempts: 5, backoff: .seconds(30), maxBackoff: .seconds(3600), jitter: false))
        #expect(task.maxOutput == 1_048_576)
        let catalog = TaskCatalog(tasks)
        #expect(catalog["reports.generate"] != nil)
        #expect(catalog["warren.echo"]?.kind == .builtin("warren.echo"))
    }

    @Test func defaults() throws {
        let task = try #require(parse("tasks:\n  t:\n    run: [/bin/true]\n").tasks.first)
        #expect(task.timeout == nil)
        #expect(task.killAfter == .seconds(10))
        #expect(task.retry == .none)
        #expect(task.maxOutput == 65_536)
        #expect(try #require(parse("tasks:\n  t:\n    run: [/bin/true]\n    retry: {}\n").tasks.first).retry.attempts == 3)
    }

    @Test(arguments: [
        ("tasks:\n  t:\n    run: /bin/true\n", "t.yaml:3:10: run: expected a non-empty list: the program, then its arguments (no shell)"),
        ("tasks:\n  t:\n    run: []\n", "t.yaml:3:10: run: expected a non-empty list: the program, then its arguments (no shell)"),
        ("tasks:\n  t:\n    cmd: [x]\n", "t.yaml:2:3: task \"t\" needs run (an argv list) or http (a request)\nt.yaml:3:5: unknown key \"cmd\" in task \"t\" (did you mean \"cwd\"?)"),
        ("tasks:\n  t:\n    run: [x]\n    timeout: 0s\n", "t.yaml:4:14: timeout: must be longer than 0s"),
        ("tasks:\n  t:\n    run: [x]\n    timout: 1m\n", "t.yaml:4:5: unknown key \"timout\" in task \"t\" (did you mean \"timeout\"?)"),
        ("tasks:\n  t:\n    run: [x]\n    retry: { attempts: 0 }\n", "t.yaml:4:24: attempts: expected a whole number from 1 to 100"),
        ("tasks:\n  t:\n    run: [x]\n    max_output: lots\n", "t.yaml:4:17: max_output: expected a size such as 64KiB"),
        ("tasks:\n  warren.echo:\n    run: [x]\n", "t.yaml:2:3: task \"warren.echo\": names starting with \"warren.\" are reserved for the built-in tasks"),
        ("tasks:\n  t:\n    run: [x, [y]]\n", "t.yaml:3:14: run: each element must be text"),
        ("tasks: [a]\n", "t.yaml:1:8: tasks: expected a mapping from task names to tasks"),
    ])
    func badInput(yaml: String, expected: String) {
        let result = parse(yaml)
        #expect(result.errors == expected.split(separator: "\n").map(String.init))
        #expect(result.tasks.isEmpty)
    }

    @Test func placeholdersFillOneArgvElementEach() throws {
        let spec = RunSpecification(arguments: ["/bin/echo", "{name}", "--n={count}", "{a}{b}", "{not a placeholder}"], environment: [:])
        let argv = try spec.argv(with: .object(["name": .string("x; rm -rf / {count}"), "count": .integer(3), "a": .bool(true), "b": .number(1.5)]))
        #expect(argv == ["/bin/echo", "x; rm -rf / {count}", "--n=3", "true1.5", "{not a placeholder}"])
        #expect(throws: TaskArgumentError(name: "name", problem: "is missing")) { try spec.argv(with: .object([:])) }
        #expect(throws: TaskArgumentError(name: "name", problem: "must be a string, number or boolean")) {
            try spec.argv(with: .object(["name": .array([])]))
        }
    }

    @Test func retryDelays() {
        let policy = RetryPolicy(attempts: 5, backoff: .seconds(30), maxBackoff: .seconds(100), jitter: false)
        #expect(policy.delay(after: 1) == .seconds(30))
        #expect(policy.delay(after: 2) == .seconds(60))
        #expect(policy.delay(after: 3) == .seconds(100))
        let jittered = RetryPolicy(attempts: 5, backoff: .seconds(30), jitter: true)
        #expect(jittered.delay(after: 1, random: 0) == .seconds(15))
        #expect(jittered.delay(after: 1, random: 1) == .seconds(30))
    }

    @Test func sizes() {
        #expect(ByteSize.parse("512") == 512)
        #expect(ByteSize.parse("64KiB") == 65_536)
        #expect(ByteSize.parse("2MB") == 2_000_000)
        #expect(ByteSize.parse("1.5MiB") == nil)
        #expect(ByteSize.parse("MiB") == nil)
    }
}

/// `http` tasks in the catalog.
@Suite struct HTTPCatalogTests {
    @Test func anHTTPTask() throws {
        let result = TaskCatalogParser.parse(yaml: """
            tasks:
              hooks.ping:
                http: { method: post, url: "https://example.internal/hook/{id}?q={q}", headers: { X-Token: abc }, timeout: 10s }
                retry: { attempts: 2 }
            """, file: "t.yaml")
        #expect(result.errors.isEmpty)
        let task = try #require(result.tasks.first)
        let expected = HTTPSpecification(method: "POST", url: "https://example.internal/hook/{id}?q={q}", headers: ["X-Token": "abc"], timeout: .seconds(10))
        #expect(task.kind == .http(expected))
        #expect(try expected.resolvedURL(with: .object(["id": .string("../admin"), "q": .string("a&b=c")]))
                == "https://example.internal/hook/..%2Fadmin?q=a%26b%3Dc")
    }

    @Test(arguments: [
        ("http: { url: \"ftp://x/y\" }", "t.yaml:3:18: url must start with http:// or https://"),
        ("http: { url: \"https://{host}/y\" }", "t.yaml:3:18: url placeholders may not appear in the host or port"),
        ("http: { method: TRACE, url: \"https://x/\" }", "t.yaml:3:21: method: expected one of GET, POST, PUT, PATCH, DELETE"),
        ("http: { method: GET }", "t.yaml:3:11: http needs a url"),
    ])
    func badHTTPTasks(line: String, expected: String) {
        let result = TaskCatalogParser.parse(yaml: "tasks:\n  t:\n    \(line)\n", file: "t.yaml")
        #expect(result.errors.map(\.description) == [expected])
    }
}
