import Foundation
import Testing
import WarrenCore
@testable import WarrenWorker

@Suite("--autoscale")
struct AutoscaleTests {
    @Test("the limit grows with the backlog up to MAX, and shrinks after a quiet spell down to MIN")
    func rule() {
        let scaler = Autoscaler(minimum: 2, maximum: 8)
        var quiet = 0
        #expect(scaler.nextLimit(limit: 2, inUse: 2, waiting: 3, quietTurns: &quiet) == 5)
        #expect(scaler.nextLimit(limit: 5, inUse: 5, waiting: 10, quietTurns: &quiet) == 8)
        #expect(scaler.nextLimit(limit: 8, inUse: 8, waiting: 0, quietTurns: &quiet) == 8)
        for _ in 1..<Autoscaler.quietTurnsBeforeShrinking {
            #expect(scaler.nextLimit(limit: 8, inUse: 3, waiting: 0, quietTurns: &quiet) == 8)
        }
        #expect(scaler.nextLimit(limit: 8, inUse: 3, waiting: 0, quietTurns: &quiet) == 7)
        quiet = Autoscaler.quietTurnsBeforeShrinking
        #expect(scaler.nextLimit(limit: 2, inUse: 0, waiting: 0, quietTurns: &quiet) == 2)
    }

    @Test("the limiter lets waiters in when its limit rises")
    func limiter() async {
        let limiter = ConcurrencyLimiter(limit: 1)
        await limiter.acquire()
        let second = Task { await limiter.acquire() }
        while limiter.snapshot.waiting == 0 { await Task.yield() }
        limiter.setLimit(2)
        await second.value
        #expect(limiter.snapshot == (limit: 2, inUse: 2, waiting: 0))
    }

    @Test("a backlog of one-second tasks makes the real worker scale up from 1 to 8 at once")
    func scalesUp() async throws {
        let harness = try await WorkerHarness.make(queue: "autoscale")
        let ids = try await (0..<16).asyncMap { _ in try await harness.publish("warren.sleep", args: .object(["seconds": .number(1)])) }
        let worker = try harness.startWorker(["--autoscale", "1,8"])
        var results: [TaskResult] = []
        for id in ids { results.append(try await harness.finalResult(id, timeout: .seconds(40))) }
        let intervals = results.compactMap { result -> (Date, Date)? in
            guard let start = result.startedAt.flatMap(TaskResult.parseTimestamp), let end = result.finishedAt.flatMap(TaskResult.parseTimestamp) else { return nil }
            return (start, end)
        }
        let mostAtOnce = intervals.map { probe in intervals.filter { $0.0 <= probe.0 && probe.0 < $0.1 }.count }.max() ?? 0
        #expect(mostAtOnce >= 4, "at most \(mostAtOnce) tasks ran at once")
        #expect(mostAtOnce <= 8)
        worker.signal(SIGTERM)
        let exit = try await worker.wait()
        #expect(exit.status == 0)
        await harness.close()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
