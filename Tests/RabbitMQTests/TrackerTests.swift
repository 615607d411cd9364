import Foundation
import Testing
@testable import RabbitMQ

@Suite("Acknowledgement coalescing and confirm tracking (pure logic)")
struct TrackerTests {
    @Test("a run of acks becomes one multiple ack")
    func coalesces() {
        var tracker = AckTracker()
        for tag in 1...100 as ClosedRange<UInt64> { tracker.delivered(tag) }
        for tag in 1...100 as ClosedRange<UInt64> { #expect(tracker.settle(tag, .ack) == nil) }
        #expect(tracker.flush() == [.ack(100, multiple: true)])
        #expect(tracker.flush() == [])
        #expect(tracker.unsettledCount == 0)
    }

    @Test("an ack behind a held delivery goes out alone, and the later multiple ack skips it")
    func outOfOrder() {
        var tracker = AckTracker()
        for tag in 1...5 as ClosedRange<UInt64> { tracker.delivered(tag) }
        _ = tracker.settle(2, .ack)
        _ = tracker.settle(3, .ack)
        let first = tracker.flush()
        #expect(Set(first.map { "\($0)" }) == Set(["ack(2, multiple: false)", "ack(3, multiple: false)"]))
        _ = tracker.settle(1, .ack)
        // 1 is unsent, 2 and 3 already sent: the multiple ack must name 1, never 3 (that would
        // be an unknown delivery tag, 406).
        #expect(tracker.flush() == [.ack(1, multiple: true)])
        #expect(tracker.unsettledCount == 2)
    }

    @Test("nacks and rejects are sent at once; a settled tag is never settled twice")
    func nacks() {
        var tracker = AckTracker()
        for tag in 1...3 as ClosedRange<UInt64> { tracker.delivered(tag) }
        #expect(tracker.settle(1, .nack(requeue: true)) == .nack(1, requeue: true))
        #expect(tracker.settle(1, .ack) == nil)
        #expect(tracker.settle(2, .reject(requeue: false)) == .reject(2, requeue: false))
        _ = tracker.settle(3, .ack)
        #expect(tracker.flush() == [.ack(3, multiple: true)])
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
}
