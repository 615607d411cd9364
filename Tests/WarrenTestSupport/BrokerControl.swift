import Foundation

/// `scripts/broker` next to the tests.
let brokerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/broker").standardized.path

/// The throwaway brokers `scripts/test` starts besides the main one.
public enum TestBrokerNode: Sendable {
    /// The main broker, shared by tests running in parallel (`testBrokerURL`).
    case main
    /// A broker whose `consumer_timeout` is 5 s, for the tests of what the broker does then,
    /// and for the serialized tests that set an alarm on it.
    case shortConsumerTimeout

    /// Its URL (default virtual host).
    public var url: String {
        switch self {
        case .main: testBrokerURL
        case .shortConsumerTimeout:
            ProcessInfo.processInfo.environment["WARREN_TEST_TIMEOUT_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5687/"
        }
    }

    /// The settings `scripts/broker` reaches it with (the main broker's are its defaults).
    var settings: [String: String] {
        switch self {
        case .main: [:]
        case .shortConsumerTimeout: ["WARREN_BROKER_DIR": "/tmp/warren-timeout-broker", "WARREN_BROKER_NODE": "warren-timeout"]
        }
    }
}

/// `scripts/broker ctl ARGS…` (rabbitmqctl against a test broker); returns what it printed.
/// `throttled` waits for one of `ProcessSlots.helpers` first: for the calls every test makes
/// (its virtual host), never for one whose timing a test measures.
public func brokerCtl(_ arguments: [String], on node: TestBrokerNode = .main, throttled: Bool = false) async throws -> String {
    let environment = node.settings.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(node.settings) { $1 }
    return try await runProcess(brokerScript, ["ctl"] + arguments, environment: environment, throttled: throttled).output
}

/// `scripts/broker ctl ARGS…` run in the background, for clean-up in a `defer`.
public func brokerCtlInBackground(_ arguments: [String]) {
    Task { _ = try? await brokerCtl(arguments, throttled: true) }
}
