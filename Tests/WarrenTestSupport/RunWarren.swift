import Foundation

/// Runs the real `warren` binary built next to the tests to the end (at most `timeout`; see
/// `runProcess`).
public func runWarren(_ arguments: [String], environment: [String: String] = [:],
                      timeout: Duration = .seconds(120)) async throws -> (status: Int32, stdout: String, stderr: String) {
    let run = try await runProcess(warrenBinary.path, arguments, environment: warrenEnvironment(environment), timeout: timeout)
    return (run.status, run.output, run.errors)
}

/// The environment a test's `warren` runs with: the test's own, no configuration file (a
/// `~/.config/warren/warren.env` or `/etc/warren/warren.env` on the machine must not decide a
/// test), then `overrides`.
public func warrenEnvironment(_ overrides: [String: String]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["WARREN_CONFIG"] = ""
    return environment.merging(overrides) { $1 }
}
