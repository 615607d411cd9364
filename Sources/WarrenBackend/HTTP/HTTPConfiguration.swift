import RabbitMQ
import WarrenCore
import WarrenMessaging

/// Settings of the backend's HTTP server (`--http`, `--api-token`, `--api-rate`).
public struct HTTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Grants everything (`--api-token`). When this or `readToken` is set, every route but
    /// `/healthz`, `/readyz` and the sign-in page needs a token (SPEC §9).
    public var apiToken: String?
    /// Grants reads only (`--api-read-token`).
    public var readToken: String?
    /// `/metrics` without a token even when tokens are set (`--metrics-open`).
    public var metricsOpen = false
    /// Listen beyond loopback without a token (`--insecure-no-auth`).
    public var insecureNoAuth = false
    /// Rate-limit by the first address of `X-Forwarded-For` when no token is used, for a proxy in
    /// front (`--trust-forwarded-for`).
    public var trustForwardedFor = false
    /// Writes per token (per client address without tokens): sustained per second and burst.
    public var rate: (perSecond: Double, burst: Int) = (10, 20)
    /// The connection `POST /api/tasks` publishes over.
    public var connection: ConnectionConfiguration
    /// How `POST /api/tasks` declares a missing task queue (the deployment's queue type); with
    /// quorum, a task with a priority is refused.
    public var queueOptions = TaskQueueOptions()
    /// With a tracer, each task `POST /api/tasks` publishes is a span (`publish TASK`), a child
    /// of the request's `traceparent`.
    public var tracing = TaskTracing()
    /// The workers' task catalog: a task submitted without `"queue"` goes to its `queue:`.
    public var catalog = TaskCatalog()
    /// Schedule files whose schedules the dashboard lists with their next fire.
    public var schedulesDirectory: String?
    /// Prometheus text for `GET /metrics`.
    public var metricsText: @Sendable () -> String

    /// Whether any token is configured: then every route but the open ones needs one.
    public var authRequired: Bool { apiToken != nil || readToken != nil }

    /// Checks the settings together; the error is one line naming the option.
    public func validated() throws(HTTPConfigurationError) -> HTTPConfiguration {
        if let apiToken, let readToken, apiToken == readToken {
            throw HTTPConfigurationError("--api-read-token: must differ from --api-token")
        }
        if !authRequired, !insecureNoAuth, !HTTPConfiguration.isLoopback(host) {
            throw HTTPConfigurationError("--http \(host):\(port): listening beyond loopback needs --api-token (or WARREN_API_TOKEN); give --insecure-no-auth to serve everyone without one")
        }
        return self
    }

    /// `127.x.x.x`, `::1` or `localhost`.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    public init(host: String, port: Int, connection: ConnectionConfiguration, metricsText: @escaping @Sendable () -> String) {
        self.host = host
        self.port = port
        self.connection = connection
        self.metricsText = metricsText
    }
}

/// HTTP settings that cannot work together.
public struct HTTPConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
