import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import CRabbitMQShim

/// The queue between callers and a connection's I/O thread, with an eventfd to wake the thread
/// from `poll`.
///
/// Commands always wake the thread. Acknowledgements are lazy: they wake it only when every
/// delivery handed out has been settled or enough have piled up, so a burst of acks costs one
/// wake-up and one `basic.ack(multiple)` instead of one of each per message. A sleeping thread
/// with lazy acks pending wakes within `lazyAckDelay` regardless.
final class Inbox: Sendable {
    struct State: ~Copyable {
        var commands: [Command] = []
        var settlements: [Settlement] = []
        var sleeping = false
        /// Deliveries handed to consumers and not yet settled.
        var unsettled = 0
        /// The I/O thread has exited; nothing posted now would ever be handled.
        var closed = false
    }

    /// Settlements that wake a sleeping I/O thread even while other deliveries are unsettled.
    static let settlementBatch = 128
    /// The longest a lazy settlement waits while the I/O thread sleeps.
    static let lazyAckDelayMilliseconds: Int32 = 1

    private let state = Mutex(State())
    let eventFD: Int32

    init() {
        eventFD = warren_eventfd()
        precondition(eventFD >= 0, "eventfd failed: \(String(cString: strerror(errno)))")
    }

    deinit { Glibc.close(eventFD) }

    /// Posts a command and wakes the I/O thread. Returns false if the thread has exited.
    @discardableResult
    func post(_ command: Command) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            if state.closed { return (false, false) }
            state.commands.append(command)
            defer { state.sleeping = false }
            return (true, state.sleeping)
        }
        if wake { signal() }
        return accepted
    }

    /// I/O thread, on exit: refuses further commands and returns those not yet handled.
    func close() -> [Command] {
        state.withLock { state in
            state.closed = true
            defer { state.commands.removeAll() }
            return state.commands
        }
    }

    /// Posts a settlement; wakes the I/O thread only when a flush is worth it.
    func settle(_ settlement: Settlement) {
        let wake = state.withLock { state -> Bool in
            state.settlements.append(settlement)
            state.unsettled -= 1
            guard state.sleeping,
                  state.unsettled <= 0 || state.settlements.count >= Self.settlementBatch else { return false }
            state.sleeping = false
            return true
        }
        if wake { signal() }
    }

    /// I/O thread: swaps out everything posted so far into the (empty) buffers given.
    func take(commands: inout [Command], settlements: inout [Settlement]) {
        state.withLock { state in
            swap(&commands, &state.commands)
            swap(&settlements, &state.settlements)
        }
    }

    /// I/O thread: records that `count` deliveries were handed to consumers.
    func handedOut(_ count: Int) {
        state.withLock { $0.unsettled += count }
    }

    /// I/O thread: forgets unsettled deliveries of a connection that is gone.
    func resetUnsettled() {
        state.withLock { $0.unsettled = 0 }
    }

    /// I/O thread: decides whether to sleep. Returns nil if there is work now, otherwise the
    /// longest sleep in milliseconds that lazy settlements allow (-1 for no limit).
    func prepareToSleep() -> Int32? {
        state.withLock { state -> Int32? in
            if !state.commands.isEmpty { return nil }
            if !state.settlements.isEmpty
                && (state.unsettled <= 0 || state.settlements.count >= Self.settlementBatch) { return nil }
            state.sleeping = true
            return state.settlements.isEmpty ? -1 : Self.lazyAckDelayMilliseconds
        }
    }

    /// I/O thread: back from `poll`.
    func awake(eventFDReadable: Bool) {
        state.withLock { $0.sleeping = false }
        if eventFDReadable {
            var value: UInt64 = 0
            _ = read(eventFD, &value, 8)
        }
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
    }
}
