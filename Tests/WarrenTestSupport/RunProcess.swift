import Foundation

/// A program a test ran to the end: its exit status and what it printed.
public struct ProcessRun: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String
}

/// A program that exited with a non-zero status.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `executable` with `arguments` to the end. Standard error goes to a temporary file, so a
/// chatty program never blocks on a full pipe while its output is read.
public func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessRun {
    let errorsFile = FileManager.default.temporaryDirectory.appendingPathComponent("warren-test-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorsFile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let errorsHandle = try FileHandle(forWritingTo: errorsFile)
    defer { try? errorsHandle.close() }
    process.standardError = errorsHandle
    try process.run()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errors = (try? Data(contentsOf: errorsFile)) ?? Data()
    return ProcessRun(status: process.terminationStatus, output: String(decoding: printed, as: UTF8.self),
                      errors: String(decoding: errors, as: UTF8.self))
}

/// Runs a program that must succeed and returns what it printed; a non-zero exit throws
/// `ProcessFailure` naming the command and quoting its standard error.
@discardableResult
public func runChecked(_ executable: String, _ arguments: [String]) throws -> String {
    let run = try runProcess(executable, arguments)
    guard run.status == 0 else {
        throw ProcessFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(run.status): "
                             + run.errors.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return run.output
}
