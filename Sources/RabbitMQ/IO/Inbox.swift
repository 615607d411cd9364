import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import CRabbitMQShim

/// The queue between callers and a connection's I/O thread, with an eventfd to wake the thread
/// from `poll`. It also carries the jobs of tasks that run on the thread (`ConnectionExecutor`).
///
/// Commands and jobs always wake the thread. Acknowledgements are lazy: they wake it only once a
/// quarter of the prefetch window (at most `settlementBatch`) has piled up, so the broker never
/// runs out of credit, and otherwise ride along with the next wake-up for socket data. A burst of
/// acks thus costs one wake-up and one `basic.ack(multiple)` instead of one of each per message.
/// A sleeping thread with lazy acks pending wakes within `lazyAckDelayMilliseconds` regardless.
final class Inbox: Sendable {
    struct State: ~Copyable {
        var commands: [Command] = []
        var settlements: [Settlement] = []
        /// Jobs of tasks that prefer the connection's executor.
        var jobs: [UnownedJob] = []
        var sleeping = false
        /// The sleeping I/O thread will wake by itself within the lazy ack delay.
        var lazyTimerArmed = false
        /// Pending settlements that justify waking the I/O thread (set from the prefetch).
        var wakeThreshold = 1
        /// The I/O thread has exited; nothing posted now would ever be handled.
        var closed = false
    }

    /// The most settlements that wait for a flush while the I/O thread sleeps.
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
        postWaking { $0.commands.append(command) }
    }

    /// Posts a job for the I/O thread and wakes it. Returns false if the thread has exited.
    func post(_ job: UnownedJob) -> Bool {
        postWaking { $0.jobs.append(job) }
    }

    /// Adds to the state unless the thread has exited, and wakes it if it sleeps.
    private func postWaking(_ add: (inout State) -> Void) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            if state.closed { return (false, false) }
            add(&state)
            defer { state.sleeping = false }
            return (true, state.sleeping)
        }
        if wake { signal() }
        return accepted
    }

    /// I/O thread: swaps out the jobs posted so far into the (empty) buffer given.
    func take(jobs: inout [UnownedJob]) {
        state.withLock { swap(&jobs, &$0.jobs) }
    }

    /// I/O thread, on exit: refuses further commands and jobs, and returns those not yet handled.
    func close() -> (commands: [Command], jobs: [UnownedJob]) {
        state.withLock { state in
            state.closed = true
            defer {
                state.commands.removeAll()
                state.jobs.removeAll()
            }
            return (state.commands, state.jobs)
        }
    }

    /// Posts a settlement; wakes the I/O thread only when a flush is worth it.
    func settle(_ settlement: Settlement) {
        let wake = state.withLock { state -> Bool in
            state.settlements.append(settlement)
            // A thread asleep without a timer would never see a lone ack (and a broker at its
            // prefetch limit would wait for it forever): the first one always wakes it.
            guard state.sleeping,
                  state.settlements.count >= state.wakeThreshold || !state.lazyTimerArmed else { return false }
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

    /// I/O thread: sets how many pending settlements wake it, from the smallest prefetch of the
    /// consuming channels (a quarter of it, at most `settlementBatch`; 1 for prefetch 1).
    func setWakeThreshold(prefetch: Int?) {
        let threshold = prefetch.map { max(1, min(Self.settlementBatch, $0 / 4)) } ?? Self.settlementBatch
        state.withLock { $0.wakeThreshold = threshold }
    }

    /// I/O thread: decides whether to sleep. Returns nil if there is work now, otherwise the
    /// longest sleep in milliseconds that lazy settlements allow (-1 for no limit).
    func prepareToSleep() -> Int32? {
        state.withLock { state -> Int32? in
            if !state.commands.isEmpty || !state.jobs.isEmpty { return nil }
            if state.settlements.count >= state.wakeThreshold { return nil }
            state.sleeping = true
            state.lazyTimerArmed = !state.settlements.isEmpty
            return state.lazyTimerArmed ? Self.lazyAckDelayMilliseconds : -1
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
