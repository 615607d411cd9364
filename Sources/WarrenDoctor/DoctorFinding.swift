/// One thing `warren doctor` checked, and what it found.
public struct DoctorFinding: Sendable, Hashable {
    /// How bad a finding is.
    public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable {
        /// Checked and fine.
        case ok
        /// Not checked, and why (a setting doctor could not read or was not given).
        case skipped
        /// Works, but not as the operator probably expects (ignored priorities, idle workers…).
        case warning
        /// Would lose work, run it twice, or stop a service from starting.
        case error

        private var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    /// A stable name for the check, e.g. `consumer-timeout`.
    public var check: String
    public var severity: Severity
    /// What was found, in one sentence.
    public var message: String
    /// What to change; nil when nothing needs to.
    public var fix: String?

    public init(_ check: String, _ severity: Severity, _ message: String, fix: String? = nil) {
        self.check = check
        self.severity = severity
        self.message = message
        self.fix = fix
    }
}

/// Everything `warren doctor` found, worst first.
public struct DoctorReport: Sendable {
    public var findings: [DoctorFinding]

    public init(_ findings: [DoctorFinding]) {
        // Worst first; checks keep their order within a severity.
        self.findings = findings.enumerated()
            .sorted { ($0.element.severity, -$0.offset) > ($1.element.severity, -$1.offset) }
            .map(\.element)
    }

    public var errors: Int { findings.count { $0.severity == .error } }
    public var warnings: Int { findings.count { $0.severity == .warning } }

    /// 1 when something would lose or repeat work (an error), 0 otherwise, warnings included.
    public var exitStatus: Int32 { errors > 0 ? 1 : 0 }
}
