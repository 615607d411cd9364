/// Parses one field of a cron expression: lists, ranges, steps, names and the Quartz forms.
struct FieldParser {
    struct Result {
        /// Bit n set: value n is selected (day-of-week folded to 0–6).
        var values: UInt64 = 0
        var dayOfMonth = DayOfMonthRule()
        var dayOfWeek = DayOfWeekRule()
    }

    let field: CronField
    let token: CronParser.Token

    func parse() throws(CronSyntaxError) -> Result {
        var result = Result()
        let text = String(token.text)
        var column = token.column
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            if item.isEmpty {
                throw error(column, "empty list item (two commas in a row, or a comma at an end)")
            }
            try parseItem(item, column: column, into: &result)
            column += item.unicodeScalars.count + 1
        }
        if field == .dayOfMonth { result.dayOfMonth.days = result.values }
        if field == .dayOfWeek { result.dayOfWeek.weekdays = result.values }
        return result
    }

    private func parseItem(_ item: Substring, column: Int, into result: inout Result) throws(CronSyntaxError) {
        // Most items are digits and punctuation; only letters need the (slow) case mapping.
        let upper = item.utf8.contains(where: { $0 >= UInt8(ascii: "A") }) ? item.uppercased() : String(item)
        switch field {
        case .dayOfMonth:
            if upper == "L" { result.dayOfMonth.fromLast |= 1; return }
            if upper == "LW" { result.dayOfMonth.lastWeekday = true; return }
            if upper.hasPrefix("L-") {
                let offset = try number(item.dropFirst(2), column: column + 2, in: 0...30, what: "days before the last")
                result.dayOfMonth.fromLast |= 1 << UInt64(offset)
                return
            }
            if upper.count > 1, upper.hasSuffix("W") {
                let day = try value(item.dropLast(), column: column)
                result.dayOfMonth.nearestWeekday |= 1 << UInt64(day)
                return
            }
        case .dayOfWeek:
            if upper == "L" {
                throw error(column, "L alone is ambiguous in day-of-week; write 6L for the last Saturday, or SAT")
            }
            if let hash = item.firstIndex(of: "#") {
                let weekday = try value(item[..<hash], column: column) % 7
                let ordinalColumn = column + item[..<hash].unicodeScalars.count + 1
                let ordinal = try number(item[item.index(after: hash)...], column: ordinalColumn, in: 1...5, what: "occurrence in the month")
                result.dayOfWeek.nthInMonth |= 1 << UInt64((ordinal - 1) * 7 + weekday)
                return
            }
            if upper.count > 1, upper.hasSuffix("L") {
                let weekday = try value(item.dropLast(), column: column) % 7
                result.dayOfWeek.lastInMonth |= 1 << UInt64(weekday)
                return
            }
        default:
            break
        }
        if field.names.isEmpty, field != .dayOfMonth, let special = upper.first(where: { $0 == "L" || $0 == "W" || $0 == "#" }) {
            let allowed = special == "#" ? "day-of-week" : special == "W" ? "day-of-month" : "day-of-month and day-of-week"
            let offset = Array(upper).firstIndex(of: special) ?? 0
            throw error(column + offset, "\"\(special)\" is only allowed in the \(allowed) field")
        }
        try parseRangeAndStep(item, column: column, into: &result)
    }

    /// `*`, `?`, `N`, `N-M`, each optionally followed by `/STEP`; `N/STEP` means `N-max/STEP`.
    private func parseRangeAndStep(_ item: Substring, column: Int, into result: inout Result) throws(CronSyntaxError) {
        let parts = item.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count > 2 {
            throw error(column, "more than one \"/\" in \"\(item)\"")
        }
        let base = parts[0]
        var step = 1
        if parts.count == 2 {
            let stepColumn = column + base.unicodeScalars.count + 1
            step = try number(parts[1], column: stepColumn, in: 1...field.range.upperBound, what: "step")
        }
        let low: Int
        var high: Int
        if base == "*" || base == "?" {
            (low, high) = (field.range.lowerBound, field.range.upperBound)
        } else if base.isEmpty {
            throw error(column, "missing value before \"/\"")
        } else if let dash = base.dropFirst().firstIndex(of: "-") {
            low = try value(base[..<dash], column: column)
            let highColumn = column + base[..<dash].unicodeScalars.count + 1
            high = try value(base[base.index(after: dash)...], column: highColumn)
            // Sunday ends a week as 7 as well as starting it as 0: MON-SUN, FRI-0.
            if field == .dayOfWeek, high == 0, low > 0 { high = 7 }
            if low > high {
                throw error(column, "range \(base) runs backwards; split it, e.g. \(low)-\(field.range.upperBound),\(field.range.lowerBound)-\(high)")
            }
        } else {
            low = try value(base, column: column)
            high = parts.count == 2 ? field.range.upperBound : low
        }
        for selected in stride(from: low, through: high, by: step) {
            result.values |= 1 << UInt64(field == .dayOfWeek ? selected % 7 : selected)
        }
    }

    /// A number or a name (`JAN`, `MON`), checked against the field's range.
    private func value(_ text: Substring, column: Int) throws(CronSyntaxError) -> Int {
        if text.first?.isLetter == true, let named = field.names[text.uppercased()] { return named }
        if text.first?.isLetter == true {
            let names = field.names.sorted { $0.value < $1.value }.map(\.key)
            let hint = names.isEmpty ? "this field takes numbers only" : "expected a number or one of \(names.joined(separator: " "))"
            throw error(column, "unknown name \"\(text)\"; \(hint)")
        }
        return try number(text, column: column, in: field.range, what: "value")
    }

    private func number(_ text: Substring, column: Int, in range: ClosedRange<Int>, what: String) throws(CronSyntaxError) -> Int {
        guard !text.isEmpty else { throw error(column, "missing \(what)") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw error(column, "\"\(text)\" is not a number")
        }
        guard text.count <= 4, let number = Int(text), range.contains(number) else {
            throw error(column, "\(what) \(text) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }

    private func error(_ column: Int, _ message: String) -> CronSyntaxError {
        CronSyntaxError(field: field, column: column, message: message)
    }
}
