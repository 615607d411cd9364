import Logging

/// TLS settings for `amqps://` endpoints. Peer and hostname verification are on by default.
public struct TLSConfiguration: Sendable, Hashable {
    /// PEM file of the certificate authorities to trust; the system's default store when nil.
    public var caCertificatePath: String?
    /// PEM client certificate, for brokers that require one.
    public var certificatePath: String?
    /// PEM private key of the client certificate.
    public var keyPath: String?
    public var verifyPeer: Bool
    public var verifyHostname: Bool

    public init(caCertificatePath: String? = nil, certificatePath: String? = nil, keyPath: String? = nil,
                verifyPeer: Bool = true, verifyHostname: Bool = true) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }
}

/// How a lost connection is re-established: exponential backoff with jitter, forever.
public struct ReconnectPolicy: Sendable, Hashable {
    public var enabled: Bool
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// Fraction of each delay that is randomised (0…1), so many clients do not reconnect in step.
    public var jitter: Double

    public init(enabled: Bool = true, initialDelay: Duration = .milliseconds(100),
                maximumDelay: Duration = .seconds(5), jitter: Double = 0.3) {
        self.enabled = enabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (0-based), randomised by `jitter`.
    public func delay(attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let base = initialDelay * (1 << min(attempt, 20))
        let capped = min(base, maximumDelay)
        let factor = 1 - jitter + 2 * jitter * random
        return capped * factor
    }
}

/// Everything needed to open a connection.
public struct ConnectionConfiguration: Sendable {
    /// Tried in order; after a failure the next one is tried.
    public var endpoints: [Endpoint]
    /// Heartbeat interval negotiated with the broker; 0 turns heartbeats off (not advised).
    public var heartbeat: Duration
    /// Limit for TCP connect plus the AMQP handshake, per endpoint.
    public var connectTimeout: Duration
    /// Limit for a synchronous method (declare, bind, consume, …) to be answered.
    public var operationTimeout: Duration
    public var tls: TLSConfiguration
    public var reconnect: ReconnectPolicy
    /// Shown in the broker's management UI and `rabbitmqctl list_connections`.
    public var connectionName: String
    /// Most unconfirmed publishes in flight per channel; more wait in the client.
    public var publishWindow: Int
    public var logger: Logger

    public init(endpoints: [Endpoint], heartbeat: Duration = .seconds(10), connectTimeout: Duration = .seconds(5),
                operationTimeout: Duration = .seconds(30), tls: TLSConfiguration = .init(),
                reconnect: ReconnectPolicy = .init(), connectionName: String = "warren",
                publishWindow: Int = 1000, logger: Logger = Logger(label: "rabbitmq")) {
        self.endpoints = endpoints
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.operationTimeout = operationTimeout
        self.tls = tls
        self.reconnect = reconnect
        self.connectionName = connectionName
        self.publishWindow = max(1, publishWindow)
        self.logger = logger
    }

    /// Configuration from a comma-separated URL list.
    public init(urls: String, heartbeat: Duration = .seconds(10), connectionName: String = "warren") throws(AMQPError) {
        self.init(endpoints: try Endpoint.list(urls), heartbeat: heartbeat, connectionName: connectionName)
    }
}
