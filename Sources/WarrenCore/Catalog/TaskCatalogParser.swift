import Cron
import Yams

/// Reads a task catalog (SPEC §3), collecting every error with file:line:column.
///
/// ```yaml
/// tasks:
///   reports.generate:
///     run: ["/usr/local/bin/report", "--format", "{format}"]
///     env: { REPORT_DIR: /var/reports }
///     cwd: /var/reports
///     timeout: 15m
///     kill_after: 10s
///     retry: { attempts: 5, backoff: 30s, max_backoff: 1h, jitter: true }
///     max_output: 64KiB
///     queue: reports        # where publishers and schedules send it when they name no queue
/// ```
public struct TaskCatalogParser {
    private var reader: YAMLFileReader

    static let taskKeys = ["run", "http", "env", "cwd", "timeout", "kill_after", "retry", "max_output", "queue"]
    static let httpKeys = ["method", "url", "headers", "timeout"]
    static let retryKeys = ["attempts", "backoff", "max_backoff", "jitter"]

    public static func parse(yaml: String, file: String) -> (tasks: [TaskDefinition], errors: [InputFileError]) {
        var parser = TaskCatalogParser(reader: YAMLFileReader(file: file))
        let tasks = parser.parseDocument(yaml)
        return (tasks, parser.reader.errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
    }

    private mutating func parseDocument(_ yaml: String) -> [TaskDefinition] {
        guard let composed = reader.compose(yaml) else { return [] }
        guard let root = composed, !root.isNull else { return [] }
        guard let mapping = root.mapping else {
            reader.report(root, "expected a mapping with the key tasks")
            return []
        }
        let entries = reader.uniqueEntries(mapping, allowed: ["tasks"], context: "at the top level")
        guard let tasksNode = entries["tasks"], !tasksNode.isNull else { return [] }
        guard let tasks = tasksNode.mapping else {
            reader.report(tasksNode, "tasks: expected a mapping from task names to tasks")
            return []
        }
        var definitions: [TaskDefinition] = []
        for (nameNode, taskNode) in tasks {
            guard case .text(let name) = nameNode.scalarValue, Names.isValidScheduleOrTaskName(name) else {
                reader.report(nameNode, "a task name uses letters, digits, \".\", \"_\", \"-\" and \":\"")
                continue
            }
            if name.hasPrefix("warren.") {
                reader.report(nameNode, "task \"\(name)\": names starting with \"warren.\" are reserved for the built-in tasks")
                continue
            }
            if let definition = parseTask(name: name, nameNode: nameNode, node: taskNode) { definitions.append(definition) }
        }
        return definitions
    }

    private mutating func parseTask(name: String, nameNode: Node, node: Node) -> TaskDefinition? {
        guard let mapping = node.mapping else {
            reader.report(node, "task \"\(name)\": expected a mapping with run")
            return nil
        }
        let before = reader.errors.count
        let entries = reader.uniqueEntries(mapping, allowed: Self.taskKeys, context: "in task \"\(name)\"")
        var definition = TaskDefinition(name: name, kind: .builtin(""))
        switch (entries["run"], entries["http"]) {
        case (let runNode?, nil):
            if let run = runSpecification(runNode, entries: entries) { definition.kind = .run(run) }
        case (nil, let httpNode?):
            if let http = httpSpecification(httpNode) { definition.kind = .http(http) }
            for key in ["env", "cwd", "kill_after"] where entries[key] != nil {
                reader.report(entries[key]!, "\(key) applies to run tasks only")
            }
        case (_?, let httpNode?):
            reader.report(httpNode, "task \"\(name)\" gives both run and http; keep one")
        case (nil, nil):
            reader.report(nameNode, "task \"\(name)\" needs run (an argv list) or http (a request)")
        }
        if let node = entries["timeout"], let timeout = positiveDuration(node, "timeout", example: "15m") { definition.timeout = timeout }
        if let node = entries["kill_after"], let killAfter = reader.duration(node, "kill_after", example: "10s") { definition.killAfter = killAfter }
        if let node = entries["max_output"] {
            if case .text(let text)? = node.scalarValue, let bytes = ByteSize.parse(text) {
                definition.maxOutput = bytes
            } else if case .integer(let bytes)? = node.scalarValue, bytes >= 0 {
                definition.maxOutput = Int(bytes)
            } else {
                reader.report(node, "max_output: expected a size such as 64KiB")
            }
        }
        if let node = entries["retry"] { definition.retry = retry(node) ?? .none }
        if let node = entries["queue"], let queue = reader.text(node, "queue", example: "reports") {
            if let problem = Names.queueNameProblem(queue) { reader.report(node, "queue: \(problem)") } else { definition.queue = queue }
        }
        return reader.errors.count == before ? definition : nil
    }

    private mutating func runSpecification(_ node: Node, entries: [String: Node]) -> RunSpecification? {
        guard let sequence = node.sequence, !sequence.isEmpty else {
            reader.report(node, "run: expected a non-empty list: the program, then its arguments (no shell)")
            return nil
        }
        var arguments: [String] = []
        for element in sequence {
            switch element.scalarValue {
            case .text(let text)?: arguments.append(text)
            case .integer?, .float?, .bool?: arguments.append(element.scalar?.string ?? "")
            default:
                reader.report(element, "run: each element must be text")
                return nil
            }
        }
        var environment: [String: String] = [:]
        if let envNode = entries["env"] {
            guard let env = envNode.mapping else {
                reader.report(envNode, "env: expected a mapping of variable names to values")
                return nil
            }
            for (keyNode, valueNode) in env {
                guard case .text(let key) = keyNode.scalarValue, let value = valueNode.scalar?.string, !valueNode.isNull else {
                    reader.report(keyNode, "env: each variable needs a name and a text value")
                    continue
                }
                environment[key] = value
            }
        }
        var workingDirectory: String?
        if let cwdNode = entries["cwd"] { workingDirectory = reader.text(cwdNode, "cwd", example: "/var/reports") }
        return RunSpecification(arguments: arguments, environment: environment, workingDirectory: workingDirectory)
    }

    private mutating func httpSpecification(_ node: Node) -> HTTPSpecification? {
        guard let mapping = node.mapping else {
            reader.report(node, "http: expected a mapping such as { method: POST, url: \"https://example.internal/hook\" }")
            return nil
        }
        let before = reader.errors.count
        let entries = reader.uniqueEntries(mapping, allowed: Self.httpKeys, context: "in http")
        var specification = HTTPSpecification(url: "")
        if let methodNode = entries["method"], let method = reader.text(methodNode, "method", example: "POST") {
            if HTTPSpecification.methods.contains(method.uppercased()) {
                specification.method = method.uppercased()
            } else {
                reader.report(methodNode, "method: expected one of \(HTTPSpecification.methods.joined(separator: ", "))")
            }
        }
        if let urlNode = entries["url"] {
            if let url = reader.text(urlNode, "url", example: "https://example.internal/hook") {
                if let problem = HTTPSpecification.urlProblem(url) { reader.report(urlNode, "url \(problem)") } else { specification.url = url }
            }
        } else {
            reader.report(node, "http needs a url")
        }
        if let headersNode = entries["headers"] {
            if let headers = headersNode.mapping {
                for (keyNode, valueNode) in headers {
                    guard case .text(let key) = keyNode.scalarValue, let value = valueNode.scalar?.string else {
                        reader.report(keyNode, "headers: each header needs a name and a text value")
                        continue
                    }
                    specification.headers[key] = value
                }
            } else {
                reader.report(headersNode, "headers: expected a mapping of header names to values")
            }
        }
        if let timeoutNode = entries["timeout"], let timeout = positiveDuration(timeoutNode, "timeout", example: "10s") {
            specification.timeout = timeout
        }
        return reader.errors.count == before ? specification : nil
    }

    private mutating func retry(_ node: Node) -> RetryPolicy? {
        guard let mapping = node.mapping else {
            reader.report(node, "retry: expected a mapping such as { attempts: 5, backoff: 30s }")
            return nil
        }
        let entries = reader.uniqueEntries(mapping, allowed: Self.retryKeys, context: "in retry")
        var policy = RetryPolicy(attempts: 3)
        if let attemptsNode = entries["attempts"] {
            if case .integer(let attempts)? = attemptsNode.scalarValue, (1...Int64(RetryPolicy.attemptLimit)).contains(attempts) {
                policy.attempts = Int(attempts)
            } else {
                reader.report(attemptsNode, "attempts: expected a whole number from 1 to \(RetryPolicy.attemptLimit)")
            }
        }
        if let backoffNode = entries["backoff"], let backoff = positiveDuration(backoffNode, "backoff", example: "30s") { policy.backoff = backoff }
        if let maxNode = entries["max_backoff"], let max = positiveDuration(maxNode, "max_backoff", example: "1h") { policy.maxBackoff = max }
        if let jitterNode = entries["jitter"] {
            if case .bool(let jitter)? = jitterNode.scalarValue { policy.jitter = jitter } else {
                reader.report(jitterNode, "jitter: expected true or false")
            }
        }
        return policy
    }

    private mutating func positiveDuration(_ node: Node, _ key: String, example: String) -> Duration? {
        guard let duration = reader.duration(node, key, example: example) else { return nil }
        guard duration > .zero else {
            reader.report(node, "\(key): must be longer than 0s")
            return nil
        }
        return duration
    }
}
