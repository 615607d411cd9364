import PostgresNIO

/// One line saying what went wrong with PostgreSQL (postgres-nio's own description hides the
/// server's message).
enum PostgresErrorText {
    static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError,
           let cause = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
            return describe(cause)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            return "server said: \(message)" + (info[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if error.code == .connectionError, let underlying = error.underlying {
            let text = "\(underlying)"
            for known in ["Connection refused", "Connection timed out", "No route to host", "Name or service not known", "connectTimeout"]
            where text.contains(known) {
                return "cannot connect: \(known == "connectTimeout" ? "timed out" : known.lowercased())"
            }
            return "cannot connect: \(text)"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// True when the server refused the data rather than the work: SQLSTATE class 22 (data
    /// exception: a number out of range, a NUL byte), 23 (integrity constraint) or 54 (program
    /// limit exceeded: a row too big).
    static func refusesData(_ error: any Error) -> Bool {
        if let transaction = error as? PostgresTransactionError,
           let cause = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
            return refusesData(cause)
        }
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return ["22", "23", "54"].contains(String(state.prefix(2)))
    }
}
