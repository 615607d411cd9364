import Cron
import Yams

/// Reads values out of a composed YAML file, collecting errors with file:line:column instead of
/// stopping at the first. Shared by the schedule-file and task-catalog parsers.
struct YAMLFileReader {
    /// The path as it should appear in messages.
    let file: String
    private(set) var errors: [InputFileError] = []

    init(file: String) {
        self.file = file
    }

    /// Composes `yaml` (scalars left untyped: `ScalarValue` types them); nil after a reported
    /// syntax error.
    mutating func compose(_ yaml: String) -> Node?? {
        do {
            return .some(try Yams.compose(yaml: yaml, .basic))
        } catch {
            report(yamlError: error)
            return nil
        }
    }

    mutating func report(at line: Int, _ column: Int, _ message: String) {
        errors.append(InputFileError(file: file, line: line, column: column, message: message))
    }

    mutating func duration(_ node: Node, _ key: String, example: String) -> Duration? {
        guard let text = text(node, key, example: example) else { return nil }
        do {
            return try DurationSyntax.parse(text)
        } catch {
            report(node, "\(key): \(error)")
            return nil
        }
    }

    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ node: Node, _ key: String, _: Choice.Type) -> Choice? where Choice.RawValue == String {
        let options = Choice.allCases.map(\.rawValue)
        guard let text = text(node, key, example: options[0]) else { return nil }
        if let value = Choice(rawValue: text) { return value }
        report(node, "\(key): expected one of \(options.joined(separator: ", ")), got \"\(text)\"")
        return nil
    }

    /// A text value; numbers, booleans and collections are refused so that `queue: 1` or
    /// `task: yes` do not pass silently.
    mutating func text(_ node: Node, _ key: String, example: String) -> String? {
        if case .text(let text) = node.scalarValue { return text }
        report(node, "\(key): expected text such as \(example), got \(describe(node))")
        return nil
    }

    mutating func json(_ node: Node, path: String) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            switch ScalarValue(scalar) {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .integer(let value): return .integer(value)
            case .text(let value): return .string(value)
            case .largeInteger(let text):
                report(node, "\(path): integer \(text) is too large")
                return nil
            case .float(let value):
                if value.isFinite { return .number(value) }
                report(node, "\(path): \(scalar.string) is not a JSON number")
                return nil
            }
        case .sequence(let sequence):
            var values: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                guard let value = json(element, path: "\(path)[\(index)]") else { return nil }
                values.append(value)
            }
            return .array(values)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.scalar?.string, !keyNode.isNull else {
                    report(keyNode, "\(path): object keys must be text")
                    return nil
                }
                guard let value = json(valueNode, path: "\(path).\(key)") else { return nil }
                object[key] = value
            }
            return .object(object)
        case .alias:
            report(node, "\(path): aliases are not supported")
            return nil
        }
    }

    // MARK: Keys and errors

    /// The entries of a mapping by key, reporting unknown and refused keys.
    mutating func uniqueEntries(_ mapping: Node.Mapping, allowed: [String], context: String, refused: [String] = []) -> [String: Node] {
        var entries: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(keyNode, "expected a key \(context)")
                continue
            }
            if refused.contains(key) {
                report(keyNode, "\(key) cannot be set \(context); give it in each schedule")
                continue
            }
            guard allowed.contains(key) else {
                let hint = Suggestion.closest(to: key, among: allowed).map { " (did you mean \"\($0)\"?)" }
                    ?? "; known keys: \(allowed.joined(separator: ", "))"
                report(keyNode, "unknown key \"\(key)\" \(context)\(hint)")
                continue
            }
            entries[key] = valueNode
        }
        return entries
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch ScalarValue(scalar) {
            case .null: return "nothing"
            case .bool: return "the boolean \(scalar.string)"
            case .integer, .largeInteger, .float: return "the number \(scalar.string)"
            case .text: return "\"\(scalar.string)\""
            }
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    mutating func report(_ node: Node, _ message: String) {
        errors.append(InputFileError(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message: message))
    }

    mutating func report(yamlError error: any Error) {
        var (line, column, problem) = (1, 1, "\(error)")
        var context = ""
        switch error as? YamlError {
        case .scanner(let scanning, let text, let mark, _), .parser(let scanning, let text, let mark, _), .composer(let scanning, let text, let mark, _):
            (line, column, problem) = (mark.line, mark.column, text)
            context = scanning?.text ?? ""
        case .duplicatedKeysInMapping(let duplicates, let mapping):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            errors.append(InputFileError(
                file: file, line: mapping.mark.line, column: mapping.mark.column,
                message: "the mapping starting here repeats the key \(keys); each key may appear once"
            ))
            return
        case .reader(let text, _, _, _):
            problem = text
        default:
            break
        }
        var message = "not valid YAML: \(problem)"
        if context.contains("alias") || context.contains("anchor") {
            message += " (a value starting with * must be quoted, e.g. cron: \"*/5 * * * *\")"
        }
        errors.append(InputFileError(file: file, line: line, column: column, message: message))
    }
}

extension Node {
    /// The scalar's typed value; nil for mappings, sequences and aliases.
    var scalarValue: ScalarValue? { scalar.map(ScalarValue.init) }

    /// A null scalar (`null`, `~` or nothing).
    var isNull: Bool { scalarValue == .null }
}
