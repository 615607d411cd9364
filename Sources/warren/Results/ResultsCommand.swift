import ArgumentParser
import Foundation
import WarrenCore
import WarrenStore

/// `warren results`: read what the backend stored.
struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "List, show, follow and summarise stored results (from the store `warren backend` writes).",
        subcommands: [ListResultsCommand.self, ShowResultCommand.self, TailResultsCommand.self, ResultStatsCommand.self]
    )
}

/// Filters shared by `list` and `tail`.
struct ResultFilterOptions: ParsableArguments {
    @Option(help: "Only this task.")
    var task: String?

    @Option(help: "Only fires of this schedule.")
    var schedule: String?

    @Option(help: "Only this status: succeeded, failed, retrying, timed_out, cancelled, expired, rejected.")
    var status: String?

    @Option(help: "Only tasks of this queue.")
    var queue: String?

    @Option(help: "Only tasks published in this batch (the id `publish --batch` names).")
    var batch: String?

    func query(since: Date?, limit: Int) throws -> ResultQuery {
        var parsedStatus: ResultStatus?
        if let status {
            guard let value = ResultStatus(rawValue: status) else {
                throw ValidationError("--status \(status): expected one of \(ResultStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsedStatus = value
        }
        return ResultQuery(task: task, schedule: schedule, status: parsedStatus, queue: queue, batch: batch, since: since, limit: limit)
    }
}

/// `--since 1h` (that long ago) or `--since 2026-11-23T10:00:00Z`.
enum SinceArgument {
    static func parse(_ text: String?, option: String = "--since") throws -> Date? {
        guard let text else { return nil }
        guard let date = PastInstant.parse(text) else {
            throw ValidationError("\(option) \(text): expected a duration such as 1h or an ISO-8601 time such as 2026-11-23T10:00:00Z")
        }
        return date
    }
}

struct ListResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "One row per task id (its latest state), newest first.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var filters: ResultFilterOptions

    @Option(help: "Only results since then: a duration (1h = an hour ago) or an ISO-8601 time.")
    var since: String?

    @Option(help: "At most this many rows.")
    var limit = 50

    @Flag(help: "One JSON object per line, with every field.")
    var json = false

    func run() async throws {
        guard limit > 0 else { throw ValidationError("--limit: expected a positive number, got \(limit)") }
        let query = try filters.query(since: try SinceArgument.parse(since), limit: limit)
        let store = try await storeOptions.openForReading(command: "results list")
        let results = try await readOrFail(command: "results list") { try await store.list(query) }
        await store.close()
        if json {
            for result in results { print(ResultFormatting.jsonLine(result)) }
        } else if results.isEmpty {
            FileHandle.standardError.write(Data("no results\n".utf8))
        } else {
            print(TerminalTable(ResultFormatting.listColumns).render(results.map(ResultFormatting.listRow)))
        }
    }
}

struct ShowResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Every attempt of one task (each run of it, when it ran more than once): status, times, output, error.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The task id, or a workflow run's id (then its graph comes first, with each step's state).")
    var id: String

    @Flag(help: "One JSON object per run of an attempt, one per line (for a workflow run, first a line with its graph).")
    var json = false

    func run() async throws {
        let store = try await storeOptions.openForReading(command: "results show")
        let attempts = try await readOrFail(command: "results show") { try await store.attempts(of: id) }
        let workflow = try await readOrFail(command: "results show") { () async throws -> (WorkflowRun, [TaskResult])? in
            guard let run = try await store.workflowRun(id) else { return nil }
            return (run, try await store.latest(ofIDs: run.stepTaskIDs))
        }
        await store.close()
        guard !attempts.isEmpty || workflow != nil else {
            FileHandle.standardError.write(Data("warren results show: no result stored for task id \(id)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            if let (run, steps) = workflow { print(ResultFormatting.workflowJSON(run, steps: steps).jsonText) }
            for attempt in attempts { print(ResultFormatting.jsonLine(attempt)) }
        } else {
            if let (run, steps) = workflow {
                print(ResultFormatting.workflow(run, steps: steps))
                if !attempts.isEmpty { print("") }
            }
            if !attempts.isEmpty { print(ResultFormatting.attempts(attempts)) }
        }
    }
}

struct TailResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the last stored attempts, then every new one as it is stored, until interrupted."
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var filters: ResultFilterOptions

    @Option(name: [.short, .customShort("n"), .customLong("lines")], help: "How many earlier attempts to print first (-n as tail has it).")
    var lines = 10

    @Option(help: "How often to look for new results.")
    var interval = "250ms"

    @Flag(help: "One JSON object per line, with every field.")
    var json = false

    func run() async throws {
        guard lines >= 0 else { throw ValidationError("--lines: expected 0 or more, got \(lines)") }
        let pollInterval = try ArgumentValues.duration(interval, option: "--interval")
        let query = try filters.query(since: nil, limit: 1)
        let store = try await storeOptions.openForReading(command: "results tail")
        let table = TerminalTable(ResultFormatting.listColumns)
        // Rows are not known in advance: room for typical names and a UUID, within the terminal.
        let widths = table.widths(for: [["", "", "", "", String(repeating: "x", count: 28), String(repeating: "x", count: 16), String(repeating: "x", count: 36)]])
        if !json { print(table.line(ResultFormatting.listColumns.map(\.title), widths: widths)) }
        let last = try await readOrFail(command: "results tail") { try await store.lastSequence() }
        var position = max(0, last - Int64(lines))
        while !Task.isCancelled {
            let batch = try await readOrFail(command: "results tail") { try await store.attempts(after: position, limit: 1000) }
            for entry in batch where Self.matches(entry.result, query) {
                print(json ? ResultFormatting.jsonLine(entry.result) : table.line(ResultFormatting.listRow(entry.result), widths: widths))
            }
            fflush(nil)
            if let lastEntry = batch.last { position = lastEntry.sequence }
            if batch.count < 1000 { try await Task.sleep(for: pollInterval) }
        }
    }

    private static func matches(_ result: TaskResult, _ query: ResultQuery) -> Bool {
        (query.task == nil || query.task == result.task) && (query.schedule == nil || query.schedule == result.schedule)
            && (query.status == nil || query.status == result.status) && (query.queue == nil || query.queue == result.queue)
            && (query.batch == nil || query.batch == result.batch)
    }
}

struct ResultStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts, success rate, run time and queue wait (p50/p95/p99) of final results, per task, queue and schedule.",
        discussion: """
            Queue wait is from when a task entered its queue (published, or for a delayed task or retry \
            when its delay ended) to when it started; --json also gives end to end (to when it finished). \
            Results of tasks published without x-warren-published-ms (older publishers) have no wait.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Over results since then: a duration or an ISO-8601 time.")
    var since = "24h"

    @Flag(help: "As one JSON object.")
    var json = false

    func run() async throws {
        let sinceDate = try SinceArgument.parse(since)
        let store = try await storeOptions.openForReading(command: "results stats")
        let samples = try await readOrFail(command: "results stats") { try await store.finalResults(since: sinceDate) }
        await store.close()
        let statistics = ResultStatistics(samples)
        if json {
            print(statistics.json(since: sinceDate).jsonText)
            return
        }
        guard !statistics.groups.isEmpty else {
            FileHandle.standardError.write(Data("no final results since \(since)\n".utf8))
            return
        }
        let columns: [TerminalTable.Column] = [
            .init(title: "KIND", width: 8), .init(title: "NAME", width: nil), .init(title: "TOTAL", width: 7, alignRight: true),
            .init(title: "OK", width: 7, alignRight: true), .init(title: "NOT OK", width: 7, alignRight: true),
            .init(title: "SUCCESS", width: 7, alignRight: true), .init(title: "P50", width: 8, alignRight: true),
            .init(title: "P95", width: 8, alignRight: true), .init(title: "P99", width: 8, alignRight: true),
            .init(title: "WAIT P50", width: 9, alignRight: true), .init(title: "WAIT P95", width: 9, alignRight: true),
            .init(title: "WAIT P99", width: 9, alignRight: true),
        ]
        let rows = statistics.groups.map { group -> [String] in
            let succeeded = group.byStatus[ResultStatus.succeeded.rawValue, default: 0]
            return [group.kind, group.name, "\(group.total)", "\(succeeded)", "\(group.total - succeeded)",
                    String(format: "%.1f%%", group.successRate * 100)]
                + [group.runTime.p50, group.runTime.p95, group.runTime.p99, group.queueWait.p50, group.queueWait.p95, group.queueWait.p99]
                .map { ResultFormatting.duration(milliseconds: $0) }
        }
        print(TerminalTable(columns).render(rows))
    }
}

/// Runs a store read; a failure is one line on stderr and exit 1.
func readOrFail<T>(command: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        FileHandle.standardError.write(Data("warren \(command): \(error)\n".utf8))
        throw ExitCode(1)
    }
}
