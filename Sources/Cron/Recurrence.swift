/// What a schedule repeats on: a cron expression or a fixed interval (`@every 15m`).
public enum Recurrence: Sendable, Hashable, CustomStringConvertible {
    case cron(CronExpression)
    /// Whole seconds, at least one.
    case every(Duration)

    /// Parses a cron expression, a macro, or `@every DURATION`.
    public init(parsing text: String) throws(CronSyntaxError) {
        let tokens = CronParser.split(text)
        if let first = tokens.first, String(first.text).lowercased() == "@every" {
            guard tokens.count == 2 else {
                let column = tokens.count > 2 ? tokens[2].column : first.column
                throw CronSyntaxError(field: nil, column: column, message: "@every takes one duration, as in @every 15m")
            }
            do {
                self = .every(try Self.interval(String(tokens[1].text)))
            } catch {
                throw CronSyntaxError(field: nil, column: tokens[1].column, message: error.description)
            }
            return
        }
        self = .cron(try CronExpression(parsing: text))
    }

    /// Reads an interval for `every:` or `@every`: a duration of whole seconds, at least 1s.
    public static func interval(_ text: String) throws(DurationSyntaxError) -> Duration {
        let duration = try DurationSyntax.parse(text)
        guard duration >= .seconds(1) else {
            throw DurationSyntaxError(text: text, reason: "an interval must be at least 1s")
        }
        guard duration.components.attoseconds == 0 else {
            throw DurationSyntaxError(text: text, reason: "an interval must be a whole number of seconds")
        }
        return duration
    }

    public var description: String {
        switch self {
        case .cron(let expression): return expression.text
        case .every(let interval): return "@every \(DurationSyntax.format(interval))"
        }
    }
}
