import RabbitMQ
import WarrenCore

/// Delays held by the broker: a chain of 28 queues whose message TTLs are 1 s, 2 s, 4 s … 2²⁷ s.
///
/// A delayed message is published to `warren.delayed.27` with a routing key of 28 words, the
/// bits of the delay in seconds from 2²⁷ down to 2⁰, followed by the target queue name:
/// `0.0.….1.0.1.reports`. At each level a `1` bit routes it into that level's queue, where it
/// waits out the TTL and is dead-lettered to the next level's exchange; a `0` bit passes it on
/// at once through an exchange-to-exchange binding. After level 0 it reaches
/// `warren.delay.deliver`, which routes it to its queue by the name at the end of the key. No
/// worker holds anything while a message waits, and nothing is needed beyond stock RabbitMQ.
/// (This is the "native delayed delivery" topology of NServiceBus and Celery 5.5.)
///
/// The level queues are quorum queues with at-least-once dead-lettering (RabbitMQ 3.10+): a
/// message leaves a level only once the next hop has confirmed it. When its target queue is full
/// (`reject-publish`), has lost its binding, or is on a node that is down, the message stays in
/// the chain and the broker tries again (every `dead_letter_worker_publisher_confirm_timeout`,
/// 3 minutes by default) instead of dropping it, as classic queues' at-most-once dead-lettering
/// would. (Chains declared by Warren before 0.19 were classic queues named `warren.delay.N`; they
/// still deliver what they hold, and can be deleted once empty.)
public enum DelayChain {
    /// Number of levels; the longest delay is 2²⁸ − 1 seconds (about 8.5 years).
    public static let levels = DelayChainLimit.levels
    public static let longestDelaySeconds = DelayChainLimit.longestDelaySeconds
    /// Exchange delivering a message whose delay is over to its queue.
    public static let deliverExchange = "warren.delay.deliver"
    /// Exchange a delayed message is published to.
    public static var entryExchange: String { exchange(level: levels - 1) }

    public static func exchange(level: Int) -> String { "warren.delayed.\(level)" }
    public static func queue(level: Int) -> String { "warren.delayed.\(level)" }

    /// A level's queue: quorum, dead-lettering at least once to `next` after `ttl`.
    static func levelArguments(deadLetterExchange next: String, ttl: Duration) -> QueueArguments {
        var arguments = QueueArguments(type: .quorum, deadLetterExchange: next, messageTTL: ttl)
        // At-least-once dead-lettering needs `reject-publish`; nothing publishes enough to fill a level.
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

    /// The pattern selecting keys whose bit for `level` is `bit`.
    static func pattern(level: Int, bit: String) -> String {
        (Array(repeating: "*", count: levels - 1 - level) + [bit, "#"]).joined(separator: ".")
    }

    /// The binding delivering a message whose delay is over to `queue`.
    public static func deliveryBinding(queue: String) -> QueueBinding {
        let pattern = (Array(repeating: "*", count: levels) + [queue]).joined(separator: ".")
        return QueueBinding(queue: queue, exchange: deliverExchange, routingKey: pattern)
    }

    /// Declares the chain (idempotent).
    public static func declare(on channel: Channel) async throws {
        try await channel.declare(ExchangeSpec(name: deliverExchange, kind: .topic))
        for level in 0..<levels {
            try await channel.declare(ExchangeSpec(name: exchange(level: level), kind: .topic))
        }
        for level in 0..<levels {
            let next = level == 0 ? deliverExchange : exchange(level: level - 1)
            let arguments = levelArguments(deadLetterExchange: next, ttl: .seconds(1 << level))
            _ = try await channel.declare(QueueSpec(name: queue(level: level), arguments: arguments))
            try await channel.bind(QueueBinding(queue: queue(level: level), exchange: exchange(level: level),
                                                routingKey: pattern(level: level, bit: "1")))
            try await channel.bind(ExchangeBinding(destination: next, source: exchange(level: level),
                                                   routingKey: pattern(level: level, bit: "0")))
        }
    }
}
