/// Everything that can go wrong talking to a broker, with the AMQP reply code where the broker
/// gave one and a message written for the person reading the log.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A broker URL could not be parsed.
    case invalidURL(String, reason: String)
    /// No endpoint accepted a connection (network, TLS or login failure); `reason` says why for each.
    case connectionFailed(endpoint: String, reason: String)
    /// The broker refused the credentials or the vhost (reply 403 / 530 at login).
    case accessRefused(endpoint: String, text: String)
    /// TLS handshake or certificate verification failed.
    case tlsFailed(endpoint: String, reason: String)
    /// The broker closed the connection (for example 320 CONNECTION_FORCED on shutdown).
    case connectionClosed(code: UInt16, text: String)
    /// The broker closed the channel because of an operation on it (403, 404, 405, 406, …).
    /// The client reopens the channel; this error reports the operation that failed.
    case channelClosed(code: UInt16, text: String)
    /// The connection dropped while the operation was in flight; its outcome is unknown.
    case connectionLost(reason: String)
    /// The client is reconnecting; the operation was not attempted.
    case notConnected
    /// The broker refused a published message (`basic.nack`), for example a full queue with
    /// `overflow: reject-publish`.
    case publishNacked
    /// A mandatory message could not be routed to any queue and was returned (`basic.return`).
    case returned(code: UInt16, text: String, exchange: String, routingKey: String)
    /// The broker did not answer within the allowed time.
    case timeout(operation: String)
    /// The connection or channel was closed by this client.
    case closedByClient
    /// The task waiting for the operation was cancelled. A publish not yet sent is not sent; one
    /// sent but not yet confirmed may or may not have reached its queue.
    case cancelled
    /// An acknowledgement for a delivery that arrived on an earlier connection or channel: the
    /// broker has already requeued it, so the acknowledgement is not sent.
    case staleDelivery
    /// A protocol or library failure (librabbitmq status code and text).
    case library(status: Int32, text: String)

    /// True for a failure to connect that can end without anyone changing anything: nothing
    /// listening yet, the network, a timeout, a node shutting down (320). False for a bad URL,
    /// refused credentials or virtual host (403, 530) and TLS problems.
    public var mayClearByItself: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .notConnected, .timeout: return true
        case .connectionClosed(let code, _): return code == 320
        default: return false
        }
    }

    /// True for a broker refusal that the broker itself will lift shortly without anyone changing
    /// anything: a stream or quorum queue just declared whose replica on the connected node is not
    /// running yet (406 "does not have a replica on the local node"). Worth waiting and retrying.
    public var isBrokerNotReadyYet: Bool {
        switch self {
        case .channelClosed(406, let text), .connectionClosed(406, let text):
            return text.contains("does not have a replica on the local node")
        default: return false
        }
    }

    /// The AMQP reply code, when the broker supplied one.
    public var replyCode: UInt16? {
        switch self {
        case .accessRefused: return 403
        case .connectionClosed(let code, _), .channelClosed(let code, _), .returned(let code, _, _, _):
            return code
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "invalid broker URL '\(url)': \(reason)"
        case .connectionFailed(let endpoint, let reason):
            return "cannot connect to \(endpoint): \(reason)"
        case .accessRefused(let endpoint, let text):
            return "broker at \(endpoint) refused the login (check user, password and vhost permissions): \(text)"
        case .tlsFailed(let endpoint, let reason):
            return "TLS with \(endpoint) failed: \(reason)"
        case .connectionClosed(let code, let text):
            return "broker closed the connection: \(code) \(text)\(Self.hint(code, text))"
        case .channelClosed(let code, let text):
            return "broker closed the channel: \(code) \(text)\(Self.hint(code, text))"
        case .connectionLost(let reason):
            return "connection to the broker lost while the operation was in flight: \(reason)"
        case .notConnected:
            return "not connected to the broker (reconnecting)"
        case .publishNacked:
            return "broker refused the message (basic.nack): the queue may be full (x-max-length with reject-publish)"
        case .returned(let code, let text, let exchange, let routingKey):
            return "message returned unroutable: \(code) \(text) (exchange '\(exchange)', routing key '\(routingKey)'): no queue is bound for it"
        case .timeout(let operation):
            return "broker did not answer \(operation) in time"
        case .closedByClient:
            return "connection closed by this client"
        case .cancelled:
            return "the waiting task was cancelled before the broker confirmed the operation"
        case .staleDelivery:
            return "delivery came from an earlier connection or channel; the broker has requeued it"
        case .library(let status, let text):
            return "AMQP library error \(status): \(text)"
        }
    }

    /// What a reply code usually means, for people who do not know AMQP.
    static func hint(_ code: UInt16, _ text: String) -> String {
        if code == 406, text.contains("does not have a replica on the local node") {
            return " (the queue was just created and its replica on this node is not running yet; this clears by itself)"
        }
        switch code {
        case 320: return " (the broker is shutting down or an operator closed the connection)"
        case 403: return " (access refused: the user lacks permission for this resource)"
        case 404: return " (not found: the exchange or queue does not exist)"
        case 405: return " (resource locked: an exclusive queue is used by another connection)"
        case 406: return " (precondition failed: e.g. redeclared with different arguments, or an unknown delivery tag)"
        case 504: return " (channel error)"
        case 530: return " (not allowed, e.g. vhost access)"
        case 541: return " (broker internal error)"
        default: return ""
        }
    }
}
