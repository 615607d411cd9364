/// `{name}` placeholders in argv elements.
enum Placeholders {
    /// The names in `element`, in order, with the column (0-based) of each `{`.
    static func names(in element: String) -> [(name: String, offset: Int)] {
        var found: [(String, Int)] = []
        let scalars = Array(element.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "{", let close = scalars[index...].firstIndex(of: "}") {
                let name = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                if isName(name) {
                    found.append((name, index))
                    index = close + 1
                    continue
                }
            }
            index += 1
        }
        return found
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "."
        }
    }

    /// `element` with each placeholder replaced by the arg's text, in one pass (an arg's text is
    /// never read again for placeholders).
    static func fill(_ element: String, from args: JSONValue) throws(TaskArgumentError) -> String {
        let placeholders = names(in: element)
        guard !placeholders.isEmpty else { return element }
        guard case .object(let values) = args else {
            throw TaskArgumentError(name: placeholders[0].name, problem: "is missing: the task's args are not an object")
        }
        let scalars = Array(element.unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        for (name, offset) in placeholders {
            result.append(contentsOf: scalars[position..<offset])
            result.append(contentsOf: try text(of: values[name], name: name).unicodeScalars)
            position = offset + name.unicodeScalars.count + 2
        }
        result.append(contentsOf: scalars[position...])
        return String(result)
    }

    private static func text(of value: JSONValue?, name: String) throws(TaskArgumentError) -> String {
        switch value {
        case .string(let value)?: return value
        case .integer(let value)?: return String(value)
        case .number(let value)?: return String(value)
        case .bool(let value)?: return String(value)
        case nil, .null?: throw TaskArgumentError(name: name, problem: "is missing")
        case .array?, .object?: throw TaskArgumentError(name: name, problem: "must be a string, number or boolean")
        }
    }
}
