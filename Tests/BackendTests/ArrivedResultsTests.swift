import Testing
import WarrenCore
@testable import WarrenMessaging

/// The hand-over between a waiter's reader and the caller (`ResultWaiter`), in process.
@Suite("result waiter hand-over (in process)")
struct ArrivedResultsTests {
    private func result(_ id: String, _ status: ResultStatus) -> TaskResult {
        TaskResult(id: id, task: "t", queue: "q", attempt: 1, status: status)
    }

    @Test("results read before anyone asks are handed out in order of arrival, without waiting")
    func readAhead() async {
        let arrived = ArrivedResults()
        arrived.add(result("a", .retrying))
        arrived.add(result("a", .succeeded))
        let far = ContinuousClock.now + .seconds(60)
        #expect(await arrived.next(until: far)?.status == .retrying)
        #expect(await arrived.next(until: far)?.status == .succeeded)
        arrived.add(result("b", .failed))
        #expect(await arrived.next(until: far)?.id == "b")
    }

    @Test("a caller waiting gets the next result as it arrives")
    func wakes() async {
        let arrived = ArrivedResults()
        async let next = arrived.next(until: ContinuousClock.now + .seconds(60))
        // However the two interleave, the result reaches the caller exactly once.
        arrived.add(result("a", .succeeded))
        #expect(await next?.id == "a")
    }

    @Test("nil at the deadline; a result arriving later is still handed out")
    func deadline() async {
        let arrived = ArrivedResults()
        let started = ContinuousClock.now
        #expect(await arrived.next(until: started + .milliseconds(50)) == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        arrived.add(result("a", .succeeded))
        #expect(await arrived.next(until: ContinuousClock.now + .seconds(60))?.id == "a")
    }

    @Test("once the reader ends, what was read is handed out, then nil at once")
    func end() async {
        let arrived = ArrivedResults()
        arrived.add(result("a", .succeeded))
        arrived.end()
        let far = ContinuousClock.now + .seconds(60)
        #expect(await arrived.next(until: far)?.id == "a")
        #expect(await arrived.next(until: far) == nil)
    }

    @Test("a cancelled caller gets nil without waiting for its deadline")
    func cancelled() async {
        let arrived = ArrivedResults()
        let waiting = Task { await arrived.next(until: ContinuousClock.now + .seconds(600)) }
        waiting.cancel()
        #expect(await waiting.value == nil)
        let started = ContinuousClock.now
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await arrived.next(until: ContinuousClock.now + .seconds(600))
        }
        #expect(await cancelledFirst.value == nil)
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
