import RabbitMQ
import Synchronization
import WarrenCore
import WarrenMessaging

/// One attempt of one task: what a redelivered copy is matched by.
///
/// It carries its hash, computed once: the ledger inserts and removes every run's key in
/// tables of thousands, and a removal rehashes the keys after it in the table.
struct RunKey: Sendable, Hashable {
    let id: String
    let attempt: Int
    private let digest: Int

    /// The key of a delivery as its properties state it, without decoding the body; nil when it
    /// has no `message_id` (nothing to match) or an attempt header Warren would not write.
    init?(properties: BasicProperties) {
        guard let id = properties.messageID, !id.isEmpty else { return nil }
        guard let attempt = try? TaskMessage.attempt(in: properties.headers ?? [:]) else { return nil }
        self.init(id: id, attempt: attempt)
    }

    init(id: String, attempt: Int) {
        self.id = id
        self.attempt = attempt
        var hasher = Hasher()
        hasher.combine(id)
        hasher.combine(attempt)
        digest = hasher.finalize()
    }

    /// A message's run.
    init(_ message: TaskMessage) {
        self.init(id: message.id, attempt: message.attempt)
    }

    static func == (a: RunKey, b: RunKey) -> Bool {
        a.digest == b.digest && a.attempt == b.attempt && a.id == b.id
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }
}

/// The runs this worker has under way or has settled lately, so that a redelivered copy of one
/// of them does not run again here.
///
/// The broker redelivers every unacked delivery of a channel it closes: a lost connection, a
/// `consumer_timeout` reached by a long task (or by deliveries waiting for a free slot), a
/// forced close. The copies come back flagged `redelivered`. A copy of a run still going here is
/// held, without a slot, until that run settles, and then acked; a copy of a run already settled
/// (its result confirmed) is acked at once. A run that ended without a confirmed result
/// (shutdown, its delivery gone) releases its held copies to the queue to run again. Copies that
/// reach another worker run there; their results say `redelivered`.
///
/// `Held` is `Delivery` in the worker; the bookkeeping itself involves no broker.
final class RunLedger<Held: Sendable>: Sendable {
    enum Verdict: Sendable, Equatable {
        /// Not known here: run it.
        case run
        /// Running here now: held until it settles.
        case held
        /// Settled here: ack it without running it.
        case settled
    }

    private struct State {
        var running: [RunKey: [Held]] = [:]
        /// The runs settled lately, the oldest overwritten first. A ring, not a set: every run
        /// is added and, later, forgotten, while only a redelivered copy (rare) looks a run up,
        /// and scanning the keys' stored hashes then costs less than a set's two updates a run.
        var settled: [RunKey] = []
        var next = 0
    }

    /// How many settled runs are remembered (the oldest are forgotten first).
    let memory: Int
    private let state = Mutex(State())

    init(memory: Int = 10_000) {
        self.memory = max(1, memory)
    }

    /// Decides about a redelivered delivery; holds it when its run is under way here.
    func admit(_ delivery: Held, key: RunKey) -> Verdict {
        state.withLock { state in
            if state.settled.contains(key) { return .settled }
            guard state.running[key] != nil else { return .run }
            state.running[key]!.append(delivery)
            return .held
        }
    }

    /// A run starts here.
    func started(_ key: RunKey) {
        state.withLock { state in
            if state.running[key] == nil { state.running[key] = [] }
        }
    }

    /// The run's result is confirmed: its held copies are returned to be acked, and later copies
    /// are acked on arrival.
    func settled(_ key: RunKey) -> [Held] {
        state.withLock { state in
            let held = state.running.removeValue(forKey: key) ?? []
            if state.settled.count < memory {
                state.settled.append(key)
            } else {
                state.settled[state.next] = key
                state.next = (state.next + 1) % memory
            }
            return held
        }
    }

    /// The run ended without a confirmed result: its held copies are returned to go back to
    /// the queue and run again.
    func abandoned(_ key: RunKey) -> [Held] {
        state.withLock { $0.running.removeValue(forKey: key) ?? [] }
    }

    /// Runs under way and settled runs remembered, for tests.
    var counts: (running: Int, settled: Int) {
        state.withLock { ($0.running.count, $0.settled.count) }
    }
}
