/// Turns cron text into a `CronExpression`, naming the field and column of every error.
enum CronParser {
    /// Macros and the five fields each stands for.
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// One whitespace-separated piece of the expression and its 1-based column.
    struct Token {
        var text: Substring.UnicodeScalarView
        var column: Int
    }

    static func parse(_ source: String) throws(CronSyntaxError) -> CronExpression {
        let tokens = split(source)
        guard let first = tokens.first else {
            throw CronSyntaxError(field: nil, column: 1, message: "empty expression")
        }
        let normalized = tokens.map { String($0.text) }.joined(separator: " ")
        if first.text.first == "@" {
            let name = String(first.text).lowercased()
            if name == "@every" {
                throw CronSyntaxError(field: nil, column: first.column, message: "@every is an interval, not a cron expression")
            }
            guard let expansion = macros[name] else {
                let known = (macros.keys.sorted() + ["@every"]).joined(separator: ", ")
                throw CronSyntaxError(field: nil, column: first.column, message: "unknown macro \"\(String(first.text))\"; known: \(known)")
            }
            guard tokens.count == 1 else {
                throw CronSyntaxError(field: nil, column: tokens[1].column, message: "\(name) takes no fields after it")
            }
            let expanded = try parseFields(split(expansion), text: normalized)
            return expanded
        }
        return try parseFields(tokens, text: normalized)
    }

    static func split(_ source: String) -> [Token] {
        var tokens: [Token] = []
        let scalars = Substring(source).unicodeScalars
        var index = scalars.startIndex
        var column = 1
        while index < scalars.endIndex {
            if scalars[index] == " " || scalars[index] == "\t" {
                index = scalars.index(after: index)
                column += 1
                continue
            }
            let start = index
            let startColumn = column
            while index < scalars.endIndex, scalars[index] != " ", scalars[index] != "\t" {
                index = scalars.index(after: index)
                column += 1
            }
            tokens.append(Token(text: scalars[start..<index], column: startColumn))
        }
        return tokens
    }

    static func parseFields(_ tokens: [Token], text: String) throws(CronSyntaxError) -> CronExpression {
        let fields: [CronField]
        switch tokens.count {
        case 5: fields = [.minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        case 6: fields = [.second, .minute, .hour, .dayOfMonth, .month, .dayOfWeek]
        default:
            let column = tokens.count > 6 ? tokens[6].column : 1
            throw CronSyntaxError(
                field: nil, column: column,
                message: "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found \(tokens.count)"
            )
        }
        var parsed: [CronField: FieldParser.Result] = [:]
        for (field, token) in zip(fields, tokens) {
            parsed[field] = try FieldParser(field: field, token: token).parse()
        }
        let isUnrestricted = { (token: Token) in token.text.first == "*" || token.text.first == "?" }
        let minuteToken = tokens[tokens.count - 5]
        let hourToken = tokens[tokens.count - 4]
        let dayOfMonthToken = tokens[tokens.count - 3]
        let dayOfWeekToken = tokens[tokens.count - 1]
        let expression = CronExpression(
            text: text,
            hasSeconds: tokens.count == 6,
            isWildcardJob: isUnrestricted(minuteToken) || isUnrestricted(hourToken),
            seconds: parsed[.second]?.values ?? 1,
            minutes: parsed[.minute]!.values,
            hours: parsed[.hour]!.values,
            months: parsed[.month]!.values,
            daysOfMonth: parsed[.dayOfMonth]!.dayOfMonth,
            daysOfWeek: parsed[.dayOfWeek]!.dayOfWeek,
            dayFieldsCombineWithAnd: isUnrestricted(dayOfMonthToken) || isUnrestricted(dayOfWeekToken)
        )
        guard expression.canEverFire else {
            throw CronSyntaxError(
                field: .dayOfMonth, column: dayOfMonthToken.column,
                message: "no date ever matches the day-of-month, month and day-of-week fields together, so the expression never fires"
            )
        }
        return expression
    }
}
