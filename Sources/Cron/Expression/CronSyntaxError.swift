/// Why a cron expression was refused, with the field and the column (1-based) at fault.
public struct CronSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault, or nil when the expression as a whole is wrong (field count, macro).
    public let field: CronField?
    /// The 1-based column of the offending text within the expression.
    public let column: Int
    /// What is wrong, in words.
    public let message: String

    public init(field: CronField?, column: Int, message: String) {
        self.field = field
        self.column = column
        self.message = message
    }

    public var description: String {
        if let field {
            return "\(field.rawValue) field, column \(column): \(message)"
        }
        return "column \(column): \(message)"
    }
}
