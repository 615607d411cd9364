import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren publish --batch FILE`: checks every line, then publishes them all with confirms in
/// windows, and reports how many the broker confirmed. A bad line stops everything before any
/// publish, naming FILE:LINE; a task the broker refuses is reported with its line.
struct BatchPublisher {
    let broker: BrokerOptions
    let queueOptions: TaskQueueOptions
    let path: String
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
        let connection = try await broker.connect(command: "publish")
        var refused: [(line: Int, error: String)] = []
        do {
            let client = TaskClient(connection: connection, queueOptions: queueOptions, actor: RuntimeSchedules.actor())
            let outcomes = try await client.publish(batch: lines.map { ($0.message, $0.delay) }, window: Self.window)
            for (line, outcome) in zip(lines, outcomes) {
                if case .failure(let error) = outcome { refused.append((line.number, "\(error)")) }
            }
            await connection.close()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren publish: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for problem in refused.prefix(Self.reportedProblems) {
            FileHandle.standardError.write(Data("\(path):\(problem.line): refused by the broker: \(problem.error)\n".utf8))
        }
        print("\(lines.count - refused.count) of \(lines.count) tasks from \(path) confirmed" + (refused.isEmpty ? "" : ", \(refused.count) refused"))
        if !refused.isEmpty { throw ExitCode(1) }
    }

    /// Every line as a message; blank lines and lines starting with `#` are skipped.
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
                let (message, delay) = try TaskRequest(json: value).validated(now: now)
                if let refusal = queueOptions.priorityRefusal(message.priority) { throw ValidationError("priority: \(refusal)") }
                lines.append(Line(number: number, message: message, delay: delay))
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
