/// What a publisher (the worker's settler, the scheduler) does with a message the broker nacked.
///
/// A nack does not say why: a full queue (`reject-publish`), or a quorum queue whose leader was
/// just lost and whose new leader is not elected yet (0.14-2.4 s measured on RabbitMQ 3.10.8,
/// docs/operations.md, "Losing a node: what it costs"). So the message is published again every
/// `interval` for `rounds` rounds (about 5 s) before it counts as refused. From round
/// `newChannelFromRound` on it goes on a new channel: on RabbitMQ 3.10 a channel whose first
/// publish to a quorum queue came just after the leader's node crashed keeps nacking that queue
/// until the node is back; a new channel does not.
public enum NackRetry {
    public static let interval = Duration.milliseconds(250)
    public static let rounds = 20
    public static let newChannelFromRound = 2
}
