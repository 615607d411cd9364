/// Placeholders in a workflow step's args, filled when the step is published:
///
/// - `{args.PATH}`: the run's args (`{args}` for all of them);
/// - `{steps.NAME.result.PATH}` (or `.result`): what step NAME returned; `{steps.NAME.output}`:
///   its output; NAME must come before the step (in its `after`, directly or not);
/// - `{run.id}`: the run's id.
///
/// A string that is exactly one placeholder takes the value as it is (a number stays a number);
/// placeholders inside longer text are replaced by their text. Anything else in braces is text.
/// PATH is `.`-separated object keys and array indexes.
public enum WorkflowArgs {
    /// One placeholder: where it points.
    public enum Reference: Equatable, Sendable {
        case args(path: [String])
        case stepResult(step: String, path: [String])
        case stepOutput(step: String)
        case runID
    }

    /// A placeholder found in text: its reference (or why it is not one) and the offset of its `{`.
    public struct Found: Sendable {
        public let text: String
        public let offset: Int
        public let reference: Result<Reference, WorkflowArgsError>
    }

    /// The placeholders in `text`: braces whose content starts with `args`, `steps.` or `run.`.
    public static func placeholders(in text: String) -> [Found] {
        var found: [Found] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "{", let close = scalars[index...].firstIndex(of: "}") {
                let inner = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                if inner == "args" || inner.hasPrefix("args.") || inner.hasPrefix("steps.") || inner.hasPrefix("run.") {
                    found.append(Found(text: inner, offset: index, reference: reference(inner)))
                    index = close + 1
                    continue
                }
            }
            index += 1
        }
        return found
    }

    static func reference(_ inner: String) -> Result<Reference, WorkflowArgsError> {
        let parts = inner.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.contains(where: \.isEmpty) { return .failure(WorkflowArgsError("{\(inner)}: empty name between dots")) }
        switch parts[0] {
        case "args": return .success(.args(path: Array(parts.dropFirst())))
        case "run":
            return parts == ["run", "id"] ? .success(.runID) : .failure(WorkflowArgsError("{\(inner)}: the run offers only {run.id}"))
        default:
            guard parts.count >= 3 else {
                return .failure(WorkflowArgsError("{\(inner)}: expected {steps.NAME.result…} or {steps.NAME.output}"))
            }
            switch parts[2] {
            case "result": return .success(.stepResult(step: parts[1], path: Array(parts.dropFirst(3))))
            case "output" where parts.count == 3: return .success(.stepOutput(step: parts[1]))
            default: return .failure(WorkflowArgsError("{\(inner)}: expected {steps.\(parts[1]).result…} or {steps.\(parts[1]).output}"))
            }
        }
    }

    /// What the placeholders of a step read from its run.
    public struct Inputs: Sendable {
        public var runID: String
        public var args: JSONValue
        /// The latest result of each step that has one.
        public var steps: [String: TaskResult]

        public init(runID: String, args: JSONValue, steps: [String: TaskResult]) {
            self.runID = runID
            self.args = args
            self.steps = steps
        }
    }

    /// `args` with every placeholder filled from `inputs`; an error names the placeholder.
    public static func fill(_ args: JSONValue, from inputs: Inputs) throws(WorkflowArgsError) -> JSONValue {
        switch args {
        case .string(let text): return try fill(text, from: inputs)
        case .array(let values):
            var filled: [JSONValue] = []
            for value in values { filled.append(try fill(value, from: inputs)) }
            return .array(filled)
        case .object(let fields):
            var filled: [String: JSONValue] = [:]
            for (key, value) in fields { filled[key] = try fill(value, from: inputs) }
            return .object(filled)
        default: return args
        }
    }

    private static func fill(_ text: String, from inputs: Inputs) throws(WorkflowArgsError) -> JSONValue {
        let found = placeholders(in: text)
        guard !found.isEmpty else { return .string(text) }
        if found.count == 1, found[0].offset == 0, found[0].text.unicodeScalars.count + 2 == text.unicodeScalars.count {
            return try value(of: found[0], from: inputs)
        }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        for placeholder in found {
            result.append(contentsOf: scalars[position..<placeholder.offset])
            switch try value(of: placeholder, from: inputs) {
            case .string(let value): result.append(contentsOf: value.unicodeScalars)
            case .null: throw WorkflowArgsError("{\(placeholder.text)} is null")
            case let other: result.append(contentsOf: other.jsonText.unicodeScalars)
            }
            position = placeholder.offset + placeholder.text.unicodeScalars.count + 2
        }
        result.append(contentsOf: scalars[position...])
        return .string(String(result))
    }

    private static func value(of placeholder: Found, from inputs: Inputs) throws(WorkflowArgsError) -> JSONValue {
        let reference = try placeholder.reference.get()
        switch reference {
        case .runID: return .string(inputs.runID)
        case .args(let path): return try walk(inputs.args, path: path, placeholder: placeholder.text, what: "the run's args")
        case .stepOutput(let step):
            guard let result = inputs.steps[step] else { throw WorkflowArgsError("{\(placeholder.text)}: step \"\(step)\" has no result") }
            // Without the line end most commands print last.
            var output = Substring(result.output ?? "")
            while output.last == "\n" || output.last == "\r" { output.removeLast() }
            return .string(String(output))
        case .stepResult(let step, let path):
            guard let result = inputs.steps[step] else { throw WorkflowArgsError("{\(placeholder.text)}: step \"\(step)\" has no result") }
            return try walk(result.result ?? .null, path: path, placeholder: placeholder.text, what: "step \"\(step)\"'s result")
        }
    }

    private static func walk(_ root: JSONValue, path: [String], placeholder: String, what: String) throws(WorkflowArgsError) -> JSONValue {
        var value = root
        for (depth, key) in path.enumerated() {
            let next: JSONValue?
            switch value {
            case .object(let fields): next = fields[key]
            case .array(let values): next = Int(key).flatMap { values.indices.contains($0) ? values[$0] : nil }
            default: next = nil
            }
            guard let next else {
                let at = path[..<depth].joined(separator: ".")
                throw WorkflowArgsError("{\(placeholder)}: \(what)\(at.isEmpty ? "" : " at \(at)") has no \"\(key)\"")
            }
            value = next
        }
        return value
    }
}

/// A placeholder that cannot be read or filled.
public struct WorkflowArgsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
