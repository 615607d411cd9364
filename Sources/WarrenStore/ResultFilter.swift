import WarrenCore

/// A `ResultQuery` as SQL: the WHERE clause over `results` and its values in bind order.
/// `placeholder(n)` writes the dialect's n-th parameter (`?` or `$n`).
struct ResultFilter {
    enum Value: Sendable {
        case text(String)
        case integer(Int64)
    }

    var whereClause: String
    var values: [Value]

    init(_ query: ResultQuery, placeholder: (Int) -> String) {
        var conditions: [String] = []
        var values: [Value] = []
        func add(_ column: String, _ operation: String, _ value: Value) {
            values.append(value)
            conditions.append("\(column) \(operation) \(placeholder(values.count))")
        }
        if let task = query.task { add("task", "=", .text(task)) }
        if let schedule = query.schedule { add("schedule", "=", .text(schedule)) }
        if let status = query.status { add("status", "=", .text(status.rawValue)) }
        if let queue = query.queue { add("queue", "=", .text(queue)) }
        if let batch = query.batch { add("batch", "=", .text(batch)) }
        if let since = query.since { add("at_ms", ">=", .integer(ResultTime.milliseconds(since))) }
        if let before = query.before { add("at_ms", "<", .integer(ResultTime.milliseconds(before))) }
        if let after = query.after {
            values += [.integer(after.atMs), .integer(after.atMs), .text(after.id)]
            let n = values.count
            conditions.append("(at_ms < \(placeholder(n - 2)) OR (at_ms = \(placeholder(n - 1)) AND id > \(placeholder(n))))")
        }
        whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        self.values = values
    }
}
