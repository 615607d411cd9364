/// One field of a cron expression.
public enum CronField: String, Sendable, CaseIterable {
    case second
    case minute
    case hour
    case dayOfMonth = "day-of-month"
    case month
    case dayOfWeek = "day-of-week"

    /// The values the field accepts; day-of-week takes 0–7, where 0 and 7 are both Sunday.
    var range: ClosedRange<Int> {
        switch self {
        case .second, .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    /// Names accepted in place of numbers (upper case).
    var names: [String: Int] {
        switch self {
        case .month: return Self.monthNames
        case .dayOfWeek: return Self.weekdayNames
        default: return [:]
        }
    }

    private static let monthNames = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
        "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    private static let weekdayNames = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
}
