// The real `warren backend` ingesting preloaded results, beside the raw consume rate of the same
// broker in the same run; and `warren results list` over a million stored results.
// Run by `scripts/bench backend`, release build only.
//
//   warren-backend-bench ingest AMQP_URL WARREN_BINARY STORE N ROUNDS
//       Each round: preload N results into warren.results, consume and ack them with the client
//       (prefetch 2000, one multiple ack per delivery batch): the raw rate; preload N again and
//       run `warren backend --store STORE` until the store holds N: the ingest rate. STORE is
//       sqlite:DIR (a new file per round) or a postgres:// URL of a server (a new database per
//       round, made with psql). Prints both rates and client CPU per result, then medians and
//       `ratio: backend/raw=R`.
//   warren-backend-bench query WARREN_BINARY PATH [N]
//       Stores N results (default 1000000: 50 tasks, 20 schedules, 2% failed, spread over 30
//       days) in SQLite at PATH, then times `list` with each filter in-process (median of 21)
//       and the whole `warren results list --task … --store sqlite:PATH` command (median of 11).
import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging
import WarrenStore

/// User+system CPU seconds of this process so far.
func cpuSeconds(_ who: Int32 = RUSAGE_SELF.rawValue) -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(who), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("warren-backend-bench: \(message)\n".utf8))
    exit(1)
}

/// A result as a worker would send it, about 330 bytes.
func sampleResult(_ index: Int, round: Int, finishedMs: Int64) -> TaskResult {
    var result = TaskResult(id: "bench-\(round)-\(index)", task: "task.\(index % 50)", queue: "bench", attempt: 1,
                            status: index % 50 == 0 ? .failed : .succeeded)
    if index % 3 == 0 {
        result.schedule = "schedule-\(index % 20)"
        result.scheduledFor = "2026-11-23T10:00:00+01:00"
    }
    result.worker = "bench-host:4242"
    result.startedAt = Timestamp.formatUTCMilliseconds(finishedMs - Int64(index % 900))
    result.finishedAt = Timestamp.formatUTCMilliseconds(finishedMs)
    result.durationMs = Int64(index % 900)
    result.output = "processed \(index) rows"
    if result.status == .failed { result.error = "exit status 1" }
    return result
}

enum Timestamp {
    static func formatUTCMilliseconds(_ milliseconds: Int64) -> String {
        TaskResult.timestamp(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

func connect(_ url: String) async throws -> Connection {
    var configuration = try ConnectionConfiguration(urls: url, connectionName: "warren-backend-bench")
    configuration.logger.logLevel = .error
    return try await Connection.open(configuration)
}

/// Publishes N results to the results exchange with confirms.
func preload(_ connection: Connection, count: Int, round: Int) async throws {
    let channel = try await connection.openChannel(confirms: true)
    try await WarrenTopology.declareShared(on: channel, queueType: .classic)
    _ = try await channel.purgeQueue(WireNames.resultsQueue)
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    var start = 0
    while start < count {
        let messages = try (start..<min(start + 2000, count)).map { try sampleResult($0, round: round, finishedMs: now).outgoing() }
        for outcome in await channel.publishBatch(messages) { try outcome.get() }
        start += 2000
    }
    try await channel.close()
}

/// Consumes and acks N messages of warren.results: (seconds, CPU seconds).
func rawConsume(_ connection: Connection, count: Int) async throws -> (Double, Double) {
    let channel = try await connection.openChannel(confirms: false)
    try await channel.setPrefetch(2000)
    let cpu = cpuSeconds()
    let start = ContinuousClock.now
    let consumer = try await channel.consume(queue: WireNames.resultsQueue)
    var seen = 0
    for await batch in consumer.batches {
        // Reading each body is what any consumer does; the backend decodes them too.
        for delivery in batch { seen += delivery.bodyCount > 0 ? 1 : 0 }
        try batch.last?.ack(multiple: true)
        if seen >= count { break }
    }
    let elapsed = ContinuousClock.now - start
    let used = cpuSeconds() - cpu
    try await consumer.cancel()
    try await channel.close()
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, used)
}

/// Runs `warren backend` until the store holds N results: (seconds, the backend's CPU seconds).
func backendIngest(binary: String, url: String, store storeText: String, count: Int) async throws -> (Double, Double) {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let address = try StoreAddress(parsing: storeText)
    // Migrate first, so the backend's start-up is the same for both stores.
    let store = try await ResultStores.openForWriting(address, logger: logger)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["backend", "--store", storeText, "--log-level", "warning", "--http", "off"]
    process.environment = ProcessInfo.processInfo.environment.merging(["WARREN_AMQP_URL": url]) { $1 }
    let cpuBefore = cpuSeconds(RUSAGE_CHILDREN.rawValue)
    let start = ContinuousClock.now
    try process.run()
    while try await store.counts().tasks < count {
        guard process.isRunning else { fail("the backend exited early") }
        try await Task.sleep(for: .milliseconds(20))
    }
    let elapsed = ContinuousClock.now - start
    process.terminate()
    process.waitUntilExit()
    await store.close()
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpuSeconds(RUSAGE_CHILDREN.rawValue) - cpuBefore)
}

/// A fresh store for one round: a new SQLite file, or a new PostgreSQL database.
func freshStore(_ base: String, round: Int) throws -> String {
    if base.hasPrefix("sqlite:") {
        let directory = String(base.dropFirst("sqlite:".count))
        let path = "\(directory)/round-\(round).sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return "sqlite:\(path)"
    }
    let name = "warren_bench_\(round)_\(Int.random(in: 0..<1_000_000))"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
    process.arguments = [base, "-X", "-q", "-c", "CREATE DATABASE \(name)"]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("psql could not create a database on \(base)") }
    return base.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/\(name)"
}

func ingest(url: String, binary: String, store: String, count: Int, rounds: Int) async throws {
    let connection = try await connect(url)
    var raw: [(Double, Double)] = [], backend: [(Double, Double)] = []
    print("store \(store.hasPrefix("sqlite:") ? "sqlite" : "postgres"), \(count) results per run")
    print("run results/s cpu_us_per_result")
    for round in 1...rounds {
        try await preload(connection, count: count, round: round)
        let (rawSeconds, rawCPU) = try await rawConsume(connection, count: count)
        raw.append((Double(count) / rawSeconds, rawCPU / Double(count) * 1e6))
        print(String(format: "raw %.0f %.2f", raw.last!.0, raw.last!.1))
        try await preload(connection, count: count, round: round)
        let (seconds, cpu) = try await backendIngest(binary: binary, url: url, store: try freshStore(store, round: round), count: count)
        backend.append((Double(count) / seconds, cpu / Double(count) * 1e6))
        print(String(format: "backend %.0f %.2f", backend.last!.0, backend.last!.1))
    }
    await connection.close()
    let rawRate = median(raw.map(\.0)), backendRate = median(backend.map(\.0))
    let rawCPU = median(raw.map(\.1)), backendCPU = median(backend.map(\.1))
    print(String(format: "medians: raw %.0f results/s %.2f cpu_us; backend %.0f results/s %.2f cpu_us", rawRate, rawCPU, backendRate, backendCPU))
    print(String(format: "ratio: backend/raw=%.2f cpu backend/raw=%.2f", backendRate / rawRate, backendCPU / rawCPU))
}

func query(binary: String, path: String, count: Int) async throws {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    let store = try await ResultStores.openForWriting(.sqlite(path: path), logger: logger)
    let fillStart = ContinuousClock.now
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    var start = 0
    while start < count {
        // Spread over 30 days, newest last.
        let batch = (start..<min(start + 5000, count)).map {
            sampleResult($0, round: 0, finishedMs: now - Int64(count - $0) * (30 * 86_400_000 / Int64(count)))
        }
        try await store.store(batch)
        start += 5000
    }
    print(String(format: "stored %d results in %.1f s", count, Double((ContinuousClock.now - fillStart).components.seconds)))
    let queries: [(String, ResultQuery)] = [
        ("newest 50", ResultQuery(limit: 50)),
        ("--task task.7", ResultQuery(task: "task.7", limit: 50)),
        ("--status failed", ResultQuery(status: .failed, limit: 50)),
        ("--schedule schedule-3", ResultQuery(schedule: "schedule-3", limit: 50)),
        ("--task task.7 --status failed", ResultQuery(task: "task.7", status: .failed, limit: 50)),
        ("--status failed --since 1d", ResultQuery(status: .failed, since: Date().addingTimeInterval(-86_400), limit: 50)),
        ("--task task.1 --status failed (none match)", ResultQuery(task: "task.1", status: .failed, limit: 50)),
    ]
    for (name, query) in queries {
        var times: [Double] = []
        var rows = 0
        for _ in 0..<21 {
            let begin = ContinuousClock.now
            rows = try await store.list(query).count
            let elapsed = ContinuousClock.now - begin
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        print(String(format: "list %@: %d rows, median %.2f ms", name, rows, median(times)))
    }
    await store.close()
    var commandTimes: [Double] = []
    for _ in 0..<11 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["results", "list", "--task", "task.7", "--status", "failed", "--store", "sqlite:\(path)"]
        process.standardOutput = FileHandle.nullDevice
        let begin = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - begin
        commandTimes.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    print(String(format: "command `warren results list --task task.7 --status failed` over %d results: median %.1f ms (whole process)", count, median(commandTimes)))
}

let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "" {
case "ingest" where arguments.count == 7:
    try await ingest(url: arguments[2], binary: arguments[3], store: arguments[4], count: Int(arguments[5])!, rounds: Int(arguments[6])!)
case "query" where arguments.count >= 4:
    try await query(binary: arguments[2], path: arguments[3], count: arguments.count > 4 ? Int(arguments[4])! : 1_000_000)
default:
    fail("usage: warren-backend-bench ingest AMQP_URL WARREN_BINARY STORE N ROUNDS | query WARREN_BINARY PATH [N]")
}
