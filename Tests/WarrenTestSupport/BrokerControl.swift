import Foundation

/// `scripts/broker ctl ARGS…` (rabbitmqctl against the test broker); returns what it printed.
public func brokerCtl(_ arguments: [String]) throws -> String {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/broker").standardized.path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: script)
    process.arguments = ["ctl"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
