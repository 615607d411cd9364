import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren publish --batch FILE`: checks every line, then publishes them all with confirms in
/// windows, each task carrying the batch id (`x-warren-batch`). Prints the id of each task the
/// broker confirmed, in file order (or writes them to `--ids FILE`), and a summary naming the
/// batch on standard error. A bad line stops everything before any publish, naming FILE:LINE; a
/// task the broker refuses is reported with its line. With `--wait`, waits for every task's
/// final result and prints a summary table (`BatchReport`).
struct BatchPublisher {
    let broker: BrokerOptions
    let queueOptions: TaskQueueOptions
    let path: String
    /// The workers' catalog: a line without `"queue"` goes to its task's `queue:`.
    let catalog: TaskCatalog
    /// Carried by every task of the batch.
    let batchID: String
    /// Where the ids go instead of standard output.
    let idsPath: String?
    /// How long `--wait` waits (beyond the longest delay in the file), nil without `--wait`.
    let waitTimeout: Duration?
    /// `--timeout` as given, for messages.
    let timeoutText: String
    /// Each task's publish as a span, with `--otlp-endpoint`.
    var tracing = TaskTracing()
    /// Messages handed to the broker client per request.
    static let window = 1000
    /// Bad lines listed before giving up on the rest.
    static let reportedProblems = 20

    struct Line {
        var number: Int
        var message: TaskMessage
        var delay: Duration
    }

    func run(conflicting: [String]) async throws {
        if let option = conflicting.first { throw ValidationError("\(option) cannot be combined with --batch (each line gives its own)") }
        let lines = try readLines()
        guard !lines.isEmpty else { throw ValidationError("--batch \(path): no tasks in the file") }
        if let idsPath, !FileManager.default.createFile(atPath: idsPath, contents: nil) {
            throw ValidationError("--ids \(idsPath): cannot write the file")
        }
        let connection = try await broker.connect(command: "publish")
        var refused: [(line: Int, error: String)] = []
        var published: [Line] = []
        let waiter: ResultWaiter?
        do {
            let client = TaskClient(connection: connection, queueOptions: queueOptions, actor: RuntimeSchedules.actor(), tracing: tracing)
            waiter = waitTimeout == nil ? nil : try await client.waitForResults(of: lines.map(\.message.id))
            let outcomes = try await client.publish(batch: lines.map { ($0.message, $0.delay) }, window: Self.window)
            for (line, outcome) in zip(lines, outcomes) {
                if case .failure(let error) = outcome { refused.append((line.number, "\(error)")) } else { published.append(line) }
            }
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren publish: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for problem in refused.prefix(Self.reportedProblems) {
            FileHandle.standardError.write(Data("\(path):\(problem.line): refused by the broker: \(problem.error)\n".utf8))
        }
        try writeIDs(published.map(\.message.id))
        FileHandle.standardError.write(Data(("batch \(batchID): \(published.count) of \(lines.count) tasks from \(path) confirmed"
                                              + (refused.isEmpty ? "" : ", \(refused.count) refused") + "\n").utf8))
        await PublishCommand.warnOfIdleQueues(published.map(\.message.queue), inspector: Inspector(connection: connection))
        guard let waiter, let waitTimeout else {
            await connection.close()
            if !refused.isEmpty { throw ExitCode(1) }
            return
        }
        fflush(nil)
        // The waiter was bound before publishing, to refused tasks' ids as well: stop at the published ones.
        let expected = Set(published.map(\.message.id))
        var finals: [String: TaskResult] = [:]
        let longestDelay = published.map(\.delay).max() ?? .zero
        if !expected.isEmpty {
            for await result in waiter.finalResults(timeout: waitTimeout + longestDelay) where expected.contains(result.id) {
                finals[result.id] = result
                if finals.count == expected.count { break }
            }
        }
        await connection.close()
        let report = BatchReport(batchID: batchID, tasks: published.map(\.message), finals: finals)
        // A blank line between the ids and the summary.
        print((idsPath == nil && !published.isEmpty ? "\n" : "") + report.render())
        if report.unfinished > 0 {
            FileHandle.standardError.write(Data("warren publish: no final result within \(timeoutText) for \(report.unfinished) of \(report.count) tasks\n".utf8))
            throw ExitCode(2)
        }
        if !refused.isEmpty || !report.allSucceeded { throw ExitCode(1) }
    }

    /// The ids on standard output, or in the `--ids` file; one per line.
    private func writeIDs(_ ids: [String]) throws {
        let text = ids.map { $0 + "\n" }.joined()
        guard let idsPath else {
            print(text, terminator: "")
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: idsPath))
        } catch {
            FileHandle.standardError.write(Data("warren publish: --ids \(idsPath): \(error.localizedDescription)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Every line as a message of the batch; blank lines and lines starting with `#` are skipped.
    private func readLines() throws -> [Line] {
        let data: Data?
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: path)
        }
        guard let data else { throw ValidationError("--batch \(path): cannot read the file") }
        var lines: [Line] = []
        var problems: [String] = []
        let now = Date()
        var number = 0
        for text in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let trimmed = text.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            do {
                let value = try JSONText.parse(trimmed)
                let validated = try TaskRequest(json: value) { catalog.queue(for: $0) }.validated(now: now)
                if let refusal = queueOptions.priorityRefusal(validated.message.priority) { throw ValidationError("priority: \(refusal)") }
                var message = validated.message
                message.batch = batchID
                lines.append(Line(number: number, message: message, delay: validated.delay))
            } catch {
                problems.append("\(path):\(number): \(error)")
                if problems.count == Self.reportedProblems { break }
            }
        }
        guard problems.isEmpty else {
            for problem in problems.dropLast() { FileHandle.standardError.write(Data("warren: \(problem)\n".utf8)) }
            throw ValidationError(problems.last! + (problems.count > 1 ? " (\(problems.count) bad lines; nothing was published)" : " (nothing was published)"))
        }
        return lines
    }
}

/// What `publish --batch --wait` prints once every task has a final result or the time is up:
/// how many tasks ended in each status, then one row per task that did not succeed.
struct BatchReport {
    let batchID: String
    /// The published tasks, in file order.
    let tasks: [TaskMessage]
    /// Each task's final result, by task id.
    let finals: [String: TaskResult]
    /// Rows of tasks that did not succeed listed before "… N more".
    static let listedProblems = 50
    /// The status shown for a task without a final result.
    static let noResult = "no result"

    /// Distinct task ids (a file may give one id twice; its tasks share one result).
    var count: Int { Set(tasks.map(\.id)).count }
    /// Tasks without a final result.
    var unfinished: Int { count - finals.count }
    var allSucceeded: Bool { unfinished == 0 && finals.values.allSatisfy { $0.status == .succeeded } }

    func render() -> String {
        var counts: [String: Int] = [:]
        for result in finals.values { counts[result.status.rawValue, default: 0] += 1 }
        if unfinished > 0 { counts[Self.noResult] = unfinished }
        let order = ResultStatus.allCases.map(\.rawValue) + [Self.noResult]
        let countColumns: [TerminalTable.Column] = [.init(title: "STATUS", width: 9), .init(title: "TASKS", width: 7, alignRight: true)]
        var text = TerminalTable(countColumns).render(order.compactMap { status in counts[status].map { [status, "\($0)"] } })
        var seen: Set<String> = []
        let problems = tasks.filter { seen.insert($0.id).inserted && finals[$0.id]?.status != .succeeded }
        guard !problems.isEmpty else { return text }
        let problemColumns: [TerminalTable.Column] = [.init(title: "STATUS", width: 9), .init(title: "TASK", width: nil),
                                                      .init(title: "ERROR", width: nil), .init(title: "ID", width: nil)]
        let rows = problems.prefix(Self.listedProblems).map { task in
            let result = finals[task.id]
            let error = result?.error.map { String($0.prefix { !$0.isNewline }) } ?? "-"
            return [result?.status.rawValue ?? Self.noResult, task.task, error.isEmpty ? "-" : error, task.id]
        }
        text += "\n\n" + TerminalTable(problemColumns).render(rows)
        if problems.count > Self.listedProblems {
            text += "\n… \(problems.count - Self.listedProblems) more (warren results list --batch \(batchID))"
        }
        return text
    }
}
