import Testing
@testable import Cron

/// Every refused expression names the field and column at fault.
@Suite struct SyntaxErrorTests {
    static let cases: [(text: String, field: CronField?, column: Int, message: String)] = [
        ("", nil, 1, "empty expression"),
        ("* * * *", nil, 1, "expected 5 fields"),
        ("* * * * * * 2026", nil, 13, "found 7"),
        ("61 * * * *", .minute, 1, "value 61 is out of range 0-59"),
        ("0 24 * * *", .hour, 3, "value 24 is out of range 0-23"),
        ("0 0 0 * *", .dayOfMonth, 5, "value 0 is out of range 1-31"),
        ("0 0 * 13 *", .month, 7, "value 13 is out of range 1-12"),
        ("0 0 * * 8", .dayOfWeek, 9, "value 8 is out of range 0-7"),
        ("60 0 0 * * *", .second, 1, "out of range 0-59"),
        ("0 0 * * MOM", .dayOfWeek, 9, "unknown name \"MOM\""),
        ("0 0 * JANUARY *", .month, 7, "unknown name \"JANUARY\""),
        ("0 x * * *", .hour, 3, "unknown name \"x\"; this field takes numbers only"),
        ("*/0 * * * *", .minute, 3, "step 0 is out of range"),
        ("1,,2 * * * *", .minute, 3, "empty list item"),
        ("0 22-2 * * *", .hour, 3, "runs backwards"),
        ("0 0 L * L", .dayOfWeek, 9, "L alone is ambiguous"),
        ("0 0 * * 5#6", .dayOfWeek, 11, "occurrence in the month 6 is out of range 1-5"),
        ("0 0 L-31 * *", .dayOfMonth, 7, "out of range 0-30"),
        ("0 0 32W * *", .dayOfMonth, 5, "out of range 1-31"),
        ("5L * * * *", .minute, 2, "\"L\" is only allowed"),
        ("0 0 30 2 *", .dayOfMonth, 5, "never fires"),
        ("0 0 31 4,6,9,11 *", .dayOfMonth, 5, "never fires"),
        ("0 0 31W 4 *", .dayOfMonth, 5, "never fires"),
        ("@reboot", nil, 1, "unknown macro \"@reboot\""),
        ("@daily 5", nil, 8, "takes no fields"),
        ("@every", nil, 1, "@every takes one duration"),
        ("@every 5x", nil, 8, "unknown unit \"x\""),
        ("@every 500ms", nil, 8, "at least 1s"),
        ("@every 1500ms", nil, 8, "whole number of seconds"),
        ("1-2-3 * * * *", .minute, 3, "\"2-3\" is not a number"),
        ("*/5/2 * * * *", .minute, 1, "more than one \"/\""),
    ]

    @Test(arguments: cases.indices)
    func refusal(index: Int) {
        let (text, field, column, message) = Self.cases[index]
        #expect {
            _ = try Recurrence(parsing: text)
        } throws: { error in
            guard let error = error as? CronSyntaxError else { return false }
            let matches = error.field == field && error.column == column && error.message.contains(message)
            if !matches { Issue.record("\(text): got \(error)") }
            return matches
        }
    }

    @Test func descriptionNamesFieldAndColumn() {
        let error = CronSyntaxError(field: .hour, column: 3, message: "value 24 is out of range 0-23")
        #expect(error.description == "hour field, column 3: value 24 is out of range 0-23")
    }

    @Test func fifthWeekdayOfFebruaryIsRareButPossible() throws {
        // Five Sundays in February need a leap year starting on a Sunday: 2032, for one.
        #expect(try fires("0 0 * 2 0#5", from: "2026-01-01T00:00:00Z", count: 1) == ["2032-02-29T00:00:00+00:00"])
    }
}
