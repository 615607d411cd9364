import RabbitMQ
import WarrenCore

/// Delays held by the broker: a chain of 28 queues whose message TTLs are 1 s, 2 s, 4 s … 2²⁷ s.
///
/// A delayed message is published to `warren.delayed.27` with a routing key of 28 words, the
/// bits of the delay in seconds from 2²⁷ down to 2⁰, followed by the target queue name:
/// `0.0.….1.0.1.reports`. At each level a `1` bit routes it into that level's queue, where it
/// waits out the TTL and is dead-lettered to the next level's exchange; a `0` bit passes it on
/// at once through an exchange-to-exchange binding. After level 0 it reaches `warren.due`, a
/// queue that every worker consumes: a worker republishes it to its queue (named at the end of
/// the key), mandatory and confirmed, and a queue that refuses it (full, or gone) makes the task
/// end in the dead-letter queue with a final result (`DueForwarder`). No worker holds anything
/// while a message waits, and nothing is needed beyond stock RabbitMQ. (The chain is the "native
/// delayed delivery" topology of NServiceBus and Celery 5.5.)
///
/// The level queues and `warren.due` are quorum queues, and the levels dead-letter at least once
/// (RabbitMQ 3.10+): a message leaves a level only once the next one has taken it, so a node
/// lost on the way loses none. Every hop's target always takes it (the next level, or
/// `warren.due`, which has no limit), so the broker never has to hold one back. (Chains declared
/// by Warren before 0.19 were classic queues named `warren.delay.N` ending in
/// `warren.delay.deliver`; that exchange and its bindings are still declared so that they
/// deliver what they hold, and the old queues can be deleted once empty.)
public enum DelayChain {
    /// Number of levels; the longest delay is 2²⁸ − 1 seconds (about 8.5 years).
    public static let levels = DelayChainLimit.levels
    public static let longestDelaySeconds = DelayChainLimit.longestDelaySeconds
    /// Exchange and queue where messages whose delay is over wait for a worker to forward them.
    public static let dueExchange = "warren.due"
    public static let dueQueue = "warren.due"
    /// Exchange of the chains declared before 0.19, delivering straight to task queues.
    public static let deliverExchange = "warren.delay.deliver"
    /// Exchange a delayed message is published to.
    public static var entryExchange: String { exchange(level: levels - 1) }

    /// Every queue holding delayed messages: the levels, and `warren.due`.
    public static var queues: [String] { (0..<levels).map(queue(level:)) + [dueQueue] }

    public static func exchange(level: Int) -> String { "warren.delayed.\(level)" }
    public static func queue(level: Int) -> String { "warren.delayed.\(level)" }

    /// A level's queue: quorum, dead-lettering at least once to `next` after `ttl`.
    static func levelArguments(deadLetterExchange next: String, ttl: Duration) -> QueueArguments {
        var arguments = QueueArguments(type: .quorum, deadLetterExchange: next, messageTTL: ttl)
        // At-least-once dead-lettering needs `reject-publish`; nothing fills a level (no limit).
        arguments.overflow = .rejectPublish
        arguments.extra["x-dead-letter-strategy"] = .string("at-least-once")
        return arguments
    }

    /// The routing key for a message to `queue` after `seconds` (clamped to the longest delay).
    public static func routingKey(delaySeconds seconds: Int, queue: String) -> String {
        let delay = min(max(seconds, 0), longestDelaySeconds)
        var words: [String] = []
        words.reserveCapacity(levels + 1)
        for level in stride(from: levels - 1, through: 0, by: -1) {
            words.append(delay & (1 << level) != 0 ? "1" : "0")
        }
        words.append(queue)
        return words.joined(separator: ".")
    }

    /// The queue a due message goes to: what follows the 28 bits of its routing key; nil when
    /// the key is not one the chain makes.
    public static func targetQueue(routingKey: String) -> String? {
        let words = routingKey.split(separator: ".", maxSplits: levels, omittingEmptySubsequences: false)
        guard words.count == levels + 1, words.dropLast().allSatisfy({ $0 == "0" || $0 == "1" }), !words[levels].isEmpty else { return nil }
        return String(words[levels])
    }

    /// The pattern selecting keys whose bit for `level` is `bit`.
    static func pattern(level: Int, bit: String) -> String {
        (Array(repeating: "*", count: levels - 1 - level) + [bit, "#"]).joined(separator: ".")
    }

    /// The binding delivering a message whose delay is over to `queue`.
    public static func deliveryBinding(queue: String) -> QueueBinding {
        let pattern = (Array(repeating: "*", count: levels) + [queue]).joined(separator: ".")
        return QueueBinding(queue: queue, exchange: deliverExchange, routingKey: pattern)
    }

    /// Declares `warren.due` (idempotent).
    public static func declareDue(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: dueExchange, kind: .fanout))
        try await WarrenTopology.declareQueue(QueueSpec(name: dueQueue, arguments: QueueArguments(type: .quorum)), on: channel)
        try await channel.bind(QueueBinding(queue: dueQueue, exchange: dueExchange, routingKey: ""))
    }

    /// Declares the chain (idempotent).
    public static func declare(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: deliverExchange, kind: .topic))
        try await declareDue(on: channel)
        for level in 0..<levels {
            try await channel.declare(ExchangeSpec(name: exchange(level: level), kind: .topic))
        }
        for level in 0..<levels {
            let next = level == 0 ? dueExchange : exchange(level: level - 1)
            let arguments = levelArguments(deadLetterExchange: next, ttl: .seconds(1 << level))
            try await WarrenTopology.declareQueue(QueueSpec(name: queue(level: level), arguments: arguments), on: channel)
            try await channel.bind(QueueBinding(queue: queue(level: level), exchange: exchange(level: level),
                                                routingKey: pattern(level: level, bit: "1")))
            try await channel.bind(ExchangeBinding(destination: next, source: exchange(level: level),
                                                   routingKey: pattern(level: level, bit: "0")))
        }
    }
}
