import Foundation

/// `scripts/broker ctl ARGS…` (rabbitmqctl against the test broker); returns what it printed.
public func brokerCtl(_ arguments: [String]) throws -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/broker").standardized.path
    return try runProcess(script, ["ctl"] + arguments).output
}
