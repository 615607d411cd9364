/// A problem in an input file (schedule file, task catalog), located by file, line and column (1-based).
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `schedules/billing.yaml:12:5: unknown key "cronn" (did you mean "cron"?)`
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
