import Foundation

/// Runs the real `warren` binary built next to the tests.
public func runWarren(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let binary = warrenBinary
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = warrenEnvironment(environment)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// The environment a test's `warren` runs with: the test's own, no configuration file (a
/// `~/.config/warren/warren.env` or `/etc/warren/warren.env` on the machine must not decide a
/// test), then `overrides`.
public func warrenEnvironment(_ overrides: [String: String]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["WARREN_CONFIG"] = ""
    return environment.merging(overrides) { $1 }
}
