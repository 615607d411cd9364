// warren-cron-bench: next-fire computation and schedule loading, with baselines in the same run.
//
//   warren-cron-bench next [ROUNDS]      median ns per next() per expression, and Foundation's
//                                         Calendar.nextDate on the expressions it can express
//   warren-cron-bench generate DIR [N]   writes N schedules (default 100000), 1000 per file
//   warren-cron-bench load DIR           ScheduleDirectory.load: parse and validate everything
//   warren-cron-bench yaml DIR           baseline: Yams.compose of the same files, nothing more
import Cron
import Foundation
import WarrenCore
import Yams

/// User+system CPU seconds and peak resident memory (MiB) of this process so far.
func usage() -> (cpu: Double, maxRSSMiB: Double) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return (cpu, Double(usage.ru_maxrss) / 1024)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Median over `rounds` of the mean nanoseconds per call of `body`, called `calls` times a round.
func measure(rounds: Int, calls: Int, _ body: (Int) -> Int64) -> Double {
    var perRound: [Double] = []
    var sink: Int64 = 0
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        for call in 0..<calls { sink &+= body(call) }
        perRound.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
    }
    if sink == 42 { print("") }  // keep the work observable
    return median(perRound)
}

func benchmarkNext(rounds: Int) {
    let calls = 20_000
    // Start instants spread over 2026, so the searches cross month ends and DST changes.
    let base: Int64 = 1_767_225_600
    let starts = (0..<calls).map { base + Int64($0) * 1_579 }
    let expressions = [
        "*/5 * * * *", "30 2 * * *", "0 9 * * MON-FRI", "0 0 L * *", "0 10 * * 5#3",
        "15 */6 * * *", "0 0 1 1 *", "*/15 * * * * *",
    ]
    print("expression zone ns_per_next")
    var ours: [String: Double] = [:]
    for zoneName in ["UTC", "Europe/Berlin", "America/New_York"] {
        let zone = ZoneRules.named(zoneName)!
        for text in expressions {
            let schedule = CronSchedule(expression: try! CronExpression(parsing: text), zone: zone)
            let ns = measure(rounds: rounds, calls: calls) { schedule.nextFire(after: starts[$0]) ?? 0 }
            ours["\(text)|\(zoneName)"] = ns
            print("\"\(text)\" \(zoneName) \(String(format: "%.0f", ns))")
        }
    }
    let parseTexts = expressions + ["0 0 L-3 * *", "0 0 15W * *", "@daily", "0 8-18/2 * JAN-JUN 1-5"]
    let parseNs = measure(rounds: rounds, calls: calls / 10) { call in
        let expression = try! CronExpression(parsing: parseTexts[call % parseTexts.count])
        return expression.hasSeconds ? 1 : 0
    }
    print(String(format: "parse: %.0f ns per expression", parseNs))
    let all = ours.values.sorted()
    print(String(format: "median over all: %.0f ns per next() (goal: <= 2000)", median(all)))

    // Baseline: Foundation's Calendar on the two expressions it can say directly.
    print("baseline: Calendar.nextDate(after:matching:) in Europe/Berlin")
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
    let dates = starts.map { Date(timeIntervalSince1970: Double($0)) }
    for (text, components) in [("30 2 * * *", DateComponents(hour: 2, minute: 30)), ("15 */6 * * *", DateComponents(minute: 15))] {
        let baseline = measure(rounds: rounds, calls: calls / 10) {
            Int64(calendar.nextDate(after: dates[$0], matching: components, matchingPolicy: .nextTime)?.timeIntervalSince1970 ?? 0)
        }
        let mine = ours["\(text)|Europe/Berlin"]!
        print(String(format: "\"%@\" Foundation %.0f ns, Warren %.0f ns, ratio Warren/Foundation %.3f", text, baseline, mine, mine / baseline))
    }
}

func generate(directory: String, count: Int) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let zones = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Sydney"]
    let crons = ["30 2 * * *", "*/5 * * * *", "0 9 * * MON-FRI", "0 23 L * *", "0 10 * * 5#3", "15 */6 * * *"]
    var file = 0
    var index = 0
    while index < count {
        var text = "timezone: \(zones[file % zones.count])\ndefaults:\n  queue: q\(file % 7)\nschedules:\n"
        for _ in 0..<min(1000, count - index) {
            text += "  job-\(index):\n"
            if index % 4 == 3 {
                text += "    every: \(index % 50 + 1)m\n"
            } else {
                text += "    cron: \"\(crons[index % crons.count])\"\n"
            }
            text += "    task: tasks.run_\(index % 100)\n    args: { id: \(index), mode: full }\n"
            text += "    catchup: latest\n    jitter: 30s\n    overlap: skip\n"
            index += 1
        }
        try text.write(toFile: "\(directory)/schedules-\(String(format: "%04d", file)).yaml", atomically: true, encoding: .utf8)
        file += 1
    }
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "next":
    benchmarkNext(rounds: Int(arguments.dropFirst().first ?? "") ?? 7)
case "generate":
    try generate(directory: arguments.dropFirst().first!, count: Int(arguments.dropFirst(2).first ?? "") ?? 100_000)
case "load":
    let start = Date()
    let set = try ScheduleDirectory.load(arguments.dropFirst().first!)
    let elapsed = Date().timeIntervalSince(start)
    let (cpu, rss) = usage()
    print(String(format: "load schedules=%d errors=%d seconds=%.3f cpu=%.3f maxrss_mib=%.1f", set.schedules.count, set.errors.count, elapsed, cpu, rss))
case "yaml":
    let directory = arguments.dropFirst().first!
    let start = Date()
    var nodes = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".yaml") {
        let text = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
        if let root = try Yams.compose(yaml: text, .basic) { nodes += root.mapping?.count ?? 0 }
    }
    let elapsed = Date().timeIntervalSince(start)
    let (cpu, rss) = usage()
    print(String(format: "yaml documents_keys=%d seconds=%.3f cpu=%.3f maxrss_mib=%.1f", nodes, elapsed, cpu, rss))
default:
    print("usage: warren-cron-bench next [ROUNDS] | generate DIR [N] | load DIR | yaml DIR")
    exit(2)
}
