import Foundation

/// `scripts/broker` next to the tests.
let brokerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/broker").standardized.path

/// `scripts/broker ctl ARGS…` (rabbitmqctl against the test broker); returns what it printed.
/// `throttled` waits for one of `ProcessSlots.helpers` first: for the calls every test makes
/// (its virtual host), never for one whose timing a test measures.
public func brokerCtl(_ arguments: [String], throttled: Bool = false) async throws -> String {
    try await runProcess(brokerScript, ["ctl"] + arguments, throttled: throttled).output
}

/// `scripts/broker ctl ARGS…` run in the background, for clean-up in a `defer`.
public func brokerCtlInBackground(_ arguments: [String]) {
    Task { _ = try? await brokerCtl(arguments, throttled: true) }
}
