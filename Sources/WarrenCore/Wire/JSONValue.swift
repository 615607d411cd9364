/// A JSON value: task arguments and other free-form data carried in messages. Read and written
/// by `JSONText`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Compact JSON text with keys sorted, e.g. `{"format":"pdf"}`.
    public var jsonText: String { JSONText.write(self) }

    /// The member `key` of an object; nil for another key or another kind of value.
    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    /// The text of a string value; nil for another kind of value.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
