import ArgumentParser
import Cron
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// `warren dead`: the messages in `warren.dead-letter`, and acting on them.
struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "List, show, requeue and purge dead letters (tasks that could not run, results that could not be stored).",
        discussion: """
            Reading takes nothing away: the messages are held for a moment and return to the queue in \
            their order. Reasons: \(DeadLetterEntry.reasons.joined(separator: ", ")). At most \
            \(DeadLetterQueue.scanLimit) messages are looked at per command.
            """,
        subcommands: [DeadListCommand.self, DeadShowCommand.self, DeadRequeueCommand.self, DeadPurgeCommand.self]
    )

    /// Connects, runs `body` on the dead-letter queue, closes.
    static func withQueue<T>(_ broker: BrokerOptions, command: String, _ body: (DeadLetterQueue) async throws -> T) async throws -> T {
        let connection = try await broker.connect(command: command)
        do {
            let value = try await body(DeadLetterQueue(connection: connection))
            await connection.close()
            return value
        } catch let error as ExitCode {
            await connection.close()
            throw error
        } catch let error as ValidationError {
            await connection.close()
            throw error
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `3m ago`, or `-` when unknown.
    static func age(_ date: Date?, now: Date = Date()) -> String {
        date == nil ? "-" : elapsed(since: date, now: now) + " ago"
    }

    /// `3m` (whole seconds), or `-` when unknown.
    static func elapsed(since date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        return DurationSyntax.format(.seconds(Int64(max(0, now.timeIntervalSince(date)).rounded(.down))))
    }

    static let listColumns: [TerminalTable.Column] = [
        .init(title: "WHEN", width: 12), .init(title: "REASON", width: 13), .init(title: "TASK", width: 18),
        .init(title: "ATT", width: 3, alignRight: true), .init(title: "ERROR", width: nil), .init(title: "ID", width: nil),
    ]

    static func listRow(_ entry: DeadLetterEntry, now: Date) -> [String] {
        [age(entry.when, now: now), entry.reason, entry.task ?? "-", entry.attempt.map(String.init) ?? "-",
         (entry.error ?? "").replacingOccurrences(of: "\n", with: " "), entry.id.isEmpty ? "(no id)" : entry.id]
    }
}

/// `--reason` as the dead-letter commands read it.
struct DeadReasonOption: ParsableArguments {
    @Option(help: "Only dead letters with this reason, e.g. failed or unknown-task.")
    var reason: String?
}

struct DeadListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "One row per dead letter, oldest first: when, reason, task, attempt, error, id.")

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var filter: DeadReasonOption

    @Flag(help: "One JSON object per line, with every field (args included).")
    var json = false

    func run() async throws {
        let entries = try await DeadCommand.withQueue(broker, command: "dead list") { try await $0.list() }
            .filter { $0.matches(ids: [], reason: filter.reason) }
        if json {
            for entry in entries { print(entry.json.jsonText) }
        } else if entries.isEmpty {
            FileHandle.standardError.write(Data("no dead letters\(filter.reason.map { " with reason \($0)" } ?? "")\n".utf8))
        } else {
            let now = Date()
            print(TerminalTable(DeadCommand.listColumns).render(entries.map { DeadCommand.listRow($0, now: now) }))
        }
    }
}

struct DeadShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Every field of the dead letters with this id.")

    @OptionGroup var broker: BrokerOptions

    @Argument(help: "A task id, as `warren dead list` shows it.")
    var id: String

    @Flag(help: "As JSON, one object per line.")
    var json = false

    func run() async throws {
        let entries = try await DeadCommand.withQueue(broker, command: "dead show") { try await $0.list() }.filter { $0.id == id }
        guard !entries.isEmpty else {
            FileHandle.standardError.write(Data("warren dead show: no dead letter with id \(id)\n".utf8))
            throw ExitCode(1)
        }
        for entry in entries {
            if json {
                print(entry.json.jsonText)
                continue
            }
            var lines = ["id         \(entry.id)", "task       \(entry.task ?? "-")", "reason     \(entry.reason)"]
            if let error = entry.error { lines.append("error      \(error)") }
            lines.append("queue      \(entry.queue ?? "-")")
            if let attempt = entry.attempt { lines.append("attempt    \(attempt)") }
            if let schedule = entry.schedule { lines.append("schedule   \(schedule)") }
            lines.append("dead at    \(entry.when.map(TaskResult.timestamp) ?? "-") (\(DeadCommand.age(entry.when)))")
            if let published = entry.publishedAt { lines.append("published  \(TaskResult.timestamp(published))") }
            if let args = entry.args { lines.append("args       \(args.jsonText)") }
            lines.append("bytes      \(entry.bytes)")
            print(lines.joined(separator: "\n"))
        }
    }
}

struct DeadRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Send dead letters back to the queue they came from.",
        discussion: """
            A task goes back as its next attempt with its retries afresh and trigger "requeue" (shown \
            by `warren results show ID`); it leaves the dead letters once its queue confirmed it. \
            Exit status 1 when one could not be requeued or no dead letter matched.
            """
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var filter: DeadReasonOption

    @Argument(help: "Task ids to requeue.")
    var ids: [String] = []

    @Flag(help: "Requeue every dead letter (with --reason: every one with that reason).")
    var all = false

    func validate() throws {
        if ids.isEmpty && !all { throw ValidationError("give the ids to requeue, or --all") }
        if !ids.isEmpty && all { throw ValidationError("give ids or --all, not both") }
    }

    func run() async throws {
        let wanted = Set(ids)
        let reason = filter.reason
        let outcomes = try await DeadCommand.withQueue(broker, command: "dead requeue") { queue in
            try await queue.requeue { $0.matches(ids: wanted, reason: reason) }
        }
        var failed = 0
        for outcome in outcomes {
            let label = "\(outcome.entry.id.isEmpty ? "(no id)" : outcome.entry.id) (\(outcome.entry.task ?? "?"))"
            if let problem = outcome.problem {
                failed += 1
                FileHandle.standardError.write(Data("warren dead requeue: \(label) not requeued: \(problem)\n".utf8))
            } else {
                print("requeued \(label) to \(outcome.entry.queue ?? "?")")
            }
        }
        let missing = wanted.subtracting(outcomes.map(\.entry.id))
        for id in missing.sorted() { FileHandle.standardError.write(Data("warren dead requeue: no dead letter with id \(id)\n".utf8)) }
        if outcomes.isEmpty && missing.isEmpty {
            FileHandle.standardError.write(Data("warren dead requeue: no dead letters\(reason.map { " with reason \($0)" } ?? "")\n".utf8))
        }
        if failed > 0 || !missing.isEmpty || outcomes.isEmpty { throw ExitCode(1) }
    }
}

struct DeadPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete dead letters for good (all, or those with --reason or the ids given).",
        discussion: "Asks for confirmation on a terminal; without one, give --yes."
    )

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var filter: DeadReasonOption

    @Argument(help: "Only these task ids.")
    var ids: [String] = []

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() async throws {
        let wanted = Set(ids)
        let reason = filter.reason
        let selective = !wanted.isEmpty || reason != nil
        let purged = try await DeadCommand.withQueue(broker, command: "dead purge") { queue -> Int in
            let what: String
            if selective {
                let count = try await queue.list().filter { $0.matches(ids: wanted, reason: reason) }.count
                guard count > 0 else { return 0 }
                what = "\(count) dead letter\(count == 1 ? "" : "s")\(reason.map { " with reason \($0)" } ?? "")"
            } else {
                let count = try await queue.count() ?? 0
                guard count > 0 else { return 0 }
                what = "all \(count) dead letter\(count == 1 ? "" : "s")"
            }
            if !yes { try Self.confirm("delete \(what) for good?") }
            return try await queue.purge(where: selective ? { $0.matches(ids: wanted, reason: reason) } : nil)
        }
        print("purged \(purged) dead letter\(purged == 1 ? "" : "s")")
    }

    /// Asks on the terminal; refuses without one.
    static func confirm(_ question: String) throws {
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("refusing to purge without confirmation: standard input is not a terminal; give --yes")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
            FileHandle.standardError.write(Data("nothing purged\n".utf8))
            throw ExitCode(1)
        }
    }
}
