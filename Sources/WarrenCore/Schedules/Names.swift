/// Rules for the names that travel in messages: schedule, task and queue names.
public enum Names {
    /// Letters, digits, `.`, `_`, `-` and `:`, starting with a letter or digit, at most 200.
    public static func isValidScheduleOrTaskName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 200 else { return false }
        guard isLetterOrDigit(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetterOrDigit($0) || $0 == "." || $0 == "_" || $0 == "-" || $0 == ":" }
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// Why `id` cannot be a task id given by a user, or nil when it can: 1 to 200 bytes, no
    /// control characters.
    public static func taskIDProblem(_ id: String) -> String? {
        if id.isEmpty || id.utf8.count > 200 { return "expected 1 to 200 bytes" }
        if id.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) { return "control characters are not allowed" }
        return nil
    }

    /// The longest task queue name: a delayed task travels the delay chain under a routing key of
    /// one word per level (`1.0.….QUEUE`), and AMQP routing keys are at most 255 bytes.
    public static let longestQueueName = 255 - 2 * DelayChainLimit.levels

    /// Why `name` cannot be a task queue name, or nil when it can.
    public static func queueNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a queue name cannot be empty" }
        if name.utf8.count > longestQueueName {
            return "a queue name is at most \(longestQueueName) bytes (it travels in the delay chain's 255-byte routing keys), got \(name.utf8.count)"
        }
        if name.hasPrefix("amq.") { return "queue names starting with \"amq.\" are reserved by the broker" }
        if name.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) { return "a queue name cannot hold control characters" }
        return nil
    }
}
