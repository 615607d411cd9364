// Round trips through the real `warren worker`: one task in flight at a time, published as
// `warren publish --wait` publishes it (a private queue bound to warren.results.by-id for its id,
// then the task with confirms) and its final result read back. Run by `scripts/bench roundtrip`,
// release build only, beside Benchmarks/c/roundtrip_bench.c on the same broker.
//
//   warren-roundtrip-bench AMQP_URL QUEUE N WARMUP
//       Prints "roundtrip N P50_US P99_US MAX_US CPU_US SETUP_US": latency from the publish to
//       the result in hand (the waiter is ready before the clock starts, as the C client's reply
//       queue is), the client's CPU per round trip, and the median time to start a waiter (which
//       `warren publish --wait` pays on top, once per task).
import Foundation
import Logging
import RabbitMQ
import WarrenCore
import WarrenMessaging

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("warren-roundtrip-bench: \(message)\n".utf8))
    exit(1)
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let n = Int(arguments[3]), let warmup = Int(arguments[4]), n > 0 else {
    fail("usage: warren-roundtrip-bench AMQP_URL QUEUE N WARMUP")
}
let queue = arguments[2]
var configuration = try ConnectionConfiguration(urls: arguments[1], connectionName: "warren-roundtrip-bench")
configuration.logger.logLevel = .error
let connection = try await Connection.open(configuration)
// As `warren publish` does: through a TaskClient, which declares the topology, and the queue
// unless the worker declared it already, once.
let client = TaskClient(connection: connection, actor: "bench")
try await client.ensureQueue(queue)
var latencies: [Double] = []
var setups: [Double] = []
latencies.reserveCapacity(n)
var cpuStart = 0.0
let clock = ContinuousClock()
for index in 0..<(warmup + n) {
    if index == warmup { cpuStart = cpuSeconds() }
    let message = TaskMessage(task: "warren.echo", args: .object(["n": .integer(Int64(index))]), queue: queue)
    let setupStart = clock.now
    let waiter = try await client.waitForResult(of: message.id)
    let start = clock.now
    try await client.publish(message)
    guard let result = await waiter.finalResult(timeout: .seconds(30)) else { fail("no result for task \(index) within 30 s") }
    let end = clock.now
    guard result.status == .succeeded else { fail("task \(index) ended \(result.status)") }
    await waiter.close()
    if index >= warmup {
        latencies.append(microseconds(end - start))
        setups.append(microseconds(start - setupStart))
    }
}
let cpuUsed = cpuSeconds() - cpuStart
await connection.close()
latencies.sort()
setups.sort()
let p99 = max(0, Int(Double(n) * 0.99) - 1)
print(String(format: "roundtrip %d %.0f %.0f %.0f %.1f %.0f", n, latencies[(n - 1) / 2], latencies[p99], latencies[n - 1],
             cpuUsed / Double(n) * 1e6, setups[(n - 1) / 2]))
