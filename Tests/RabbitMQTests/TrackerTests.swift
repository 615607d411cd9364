import Foundation
import Testing
@testable import RabbitMQ

@Suite("Acknowledgement coalescing and confirm tracking (pure logic)")
struct TrackerTests {
    private static let start = ContinuousClock.now

    @Test("a run of acks becomes one multiple ack")
    func coalesces() {
        var tracker = AckTracker()
        for tag in 1...100 as ClosedRange<UInt64> { tracker.delivered(tag) }
        for tag in 1...100 as ClosedRange<UInt64> { #expect(tracker.settle(tag, .ack) == nil) }
        #expect(tracker.flush(now: Self.start) == [.ack(100, multiple: true)])
        #expect(tracker.flush(now: Self.start) == [])
        #expect(tracker.unsettledCount == 0)
    }

    /// Tags 1–5 delivered, 2 and 3 acked and held back by a first flush at `start`.
    private static func twoStraysBehindTagOne() -> AckTracker {
        var tracker = AckTracker(strayLimit: 4)
        for tag in 1...5 as ClosedRange<UInt64> { tracker.delivered(tag) }
        _ = tracker.settle(2, .ack)
        _ = tracker.settle(3, .ack)
        #expect(tracker.flush(now: start) == [])
        return tracker
    }

    @Test("an ack behind an unsettled delivery waits for it and joins its multiple ack")
    func strayJoinsTheRun() {
        var tracker = Self.twoStraysBehindTagOne()
        #expect(tracker.strayDeadline == Self.start + AckTracker.strayHold)
        _ = tracker.settle(1, .ack)
        #expect(tracker.flush(now: Self.start + .milliseconds(1)) == [.ack(3, multiple: true)])
        #expect(tracker.strayDeadline == nil)
        #expect(tracker.unsettledCount == 2)
    }

    @Test("stray acks go out alone after strayHold, and the later multiple ack names an unsent tag")
    func strayHoldExpires() {
        var tracker = Self.twoStraysBehindTagOne()
        #expect(tracker.flush(now: Self.start + AckTracker.strayHold - .milliseconds(1)) == [])
        #expect(tracker.flush(now: Self.start + AckTracker.strayHold) == [.ack(2, multiple: false), .ack(3, multiple: false)])
        #expect(tracker.strayDeadline == nil)
        _ = tracker.settle(1, .ack)
        // 1 is unsent, 2 and 3 already sent: the multiple ack must name 1, never 3 (that would
        // be an unknown delivery tag, 406).
        #expect(tracker.flush(now: Self.start + AckTracker.strayHold) == [.ack(1, multiple: true)])
        #expect(tracker.unsettledCount == 2)
    }

    @Test("past the stray limit the oldest strays go out alone and the rest keep waiting")
    func strayLimit() {
        var tracker = AckTracker(strayLimit: 2)
        for tag in 1...6 as ClosedRange<UInt64> { tracker.delivered(tag) }
        for tag in 2...5 as ClosedRange<UInt64> { _ = tracker.settle(tag, .ack) }
        #expect(tracker.flush(now: Self.start) == [.ack(2, multiple: false), .ack(3, multiple: false)])
        #expect(tracker.strayDeadline == Self.start + AckTracker.strayHold)
        _ = tracker.settle(1, .ack)
        #expect(tracker.flush(now: Self.start) == [.ack(5, multiple: true)])
        #expect(tracker.unsettledCount == 1)
    }

    @Test("with no room to wait (prefetch 1 or 2) a stray ack goes out at once")
    func strayWithoutRoom() {
        var tracker = AckTracker(strayLimit: AckTracker.strayLimit(prefetch: 2))
        tracker.delivered(1)
        tracker.delivered(2)
        _ = tracker.settle(2, .ack)
        #expect(tracker.flush(now: Self.start) == [.ack(2, multiple: false)])
        #expect(tracker.strayDeadline == nil)
    }

    @Test("a forced flush (before a channel close) sends every waiting stray ack")
    func forcedFlush() {
        var tracker = AckTracker(strayLimit: 8)
        for tag in 1...4 as ClosedRange<UInt64> { tracker.delivered(tag) }
        _ = tracker.settle(3, .ack)
        _ = tracker.settle(4, .ack)
        #expect(tracker.flush(now: Self.start, force: true) == [.ack(3, multiple: false), .ack(4, multiple: false)])
        #expect(tracker.unsettledCount == 2)
    }

    @Test("the stray limit is under half the prefetch window; without a window only the hold applies")
    func strayLimitFromPrefetch() {
        #expect(AckTracker.strayLimit(prefetch: 1) == 0)
        #expect(AckTracker.strayLimit(prefetch: 2) == 0)
        #expect(AckTracker.strayLimit(prefetch: 3) == 1)
        #expect(AckTracker.strayLimit(prefetch: 500) == 249)
        #expect(AckTracker.strayLimit(prefetch: 0) == Int.max)
        #expect(AckTracker.strayLimit(prefetch: nil) == Int.max)
    }

    @Test("nacks and rejects are sent at once; a settled tag is never settled twice")
    func nacks() {
        var tracker = AckTracker()
        for tag in 1...3 as ClosedRange<UInt64> { tracker.delivered(tag) }
        #expect(tracker.settle(1, .nack(requeue: true)) == .nack(1, requeue: true))
        #expect(tracker.settle(1, .ack) == nil)
        #expect(tracker.settle(2, .reject(requeue: false)) == .reject(2, requeue: false))
        _ = tracker.settle(3, .ack)
        #expect(tracker.flush(now: Self.start) == [.ack(3, multiple: true)])
    }

    @Test("confirms: multiple acks, nacks and returns resolve the right publishes")
    func confirms() {
        final class Outcomes: @unchecked Sendable { var values: [Int: String] = [:] }
        let outcomes = Outcomes()
        var tracker = ConfirmTracker()
        for index in 1...5 {
            tracker.sent(Publication(exchange: "", routingKey: "k\(index)", mandatory: true, properties: .init(),
                                     body: Data()) { result in
                switch result {
                case .success: outcomes.values[index] = "ok"
                case .failure(.publishNacked): outcomes.values[index] = "nack"
                case .failure(.returned): outcomes.values[index] = "returned"
                case .failure: outcomes.values[index] = "other"
                }
            })
        }
        #expect(tracker.inFlight == 5)
        tracker.returned(exchange: "", routingKey: "k2", messageID: nil, error: .returned(code: 312, text: "NO_ROUTE", exchange: "", routingKey: "k2"))
        tracker.confirm(tag: 3, multiple: true, ack: true)
        tracker.confirm(tag: 5, multiple: false, ack: false)
        #expect(outcomes.values == [1: "ok", 2: "returned", 3: "ok", 5: "nack"])
        #expect(tracker.inFlight == 1)
        for publication in tracker.takeUnconfirmed() { publication.complete(.failure(.connectionLost(reason: "test"))) }
        #expect(outcomes.values[4] == "other")
        #expect(tracker.inFlight == 0)
    }

    @Test("confirms: a cancelled caller's publishes are taken once; their confirms only free the window")
    func abandon() {
        final class Outcomes: @unchecked Sendable { var count: [Int: Int] = [:] }
        let outcomes = Outcomes()
        let cancelled = PublishCancellation()
        var tracker = ConfirmTracker()
        func publication(_ index: Int, _ cancellation: PublishCancellation?) -> Publication {
            Publication(exchange: "", routingKey: "k\(index)", mandatory: false, properties: .init(), body: Data(),
                        waiter: .callback { _ in outcomes.count[index, default: 0] += 1 }, cancellation: cancellation)
        }
        tracker.sent(publication(1, cancelled))
        tracker.sent(publication(2, nil))
        tracker.waiting.append(publication(3, cancelled))
        tracker.waiting.append(publication(4, nil))
        let taken = tracker.abandon(cancelled)
        #expect(taken.map(\.routingKey).sorted() == ["k1", "k3"])
        #expect(tracker.waiting.map(\.routingKey) == ["k4"], "a waiting publish of the cancelled caller is never sent")
        #expect(tracker.abandon(cancelled).isEmpty, "taken once")
        #expect(tracker.inFlight == 2)
        tracker.confirm(tag: 2, multiple: true, ack: true)
        #expect(outcomes.count == [2: 1], "only the publish still waited for is reported")
        #expect(tracker.inFlight == 0)
        tracker.sent(publication(5, cancelled))
        _ = tracker.abandon(cancelled)
        #expect(tracker.takeUnconfirmed().isEmpty, "an abandoned publish is not failed again with the connection")
    }
}
