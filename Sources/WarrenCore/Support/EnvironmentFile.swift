import Foundation

/// A file of `NAME=value` lines, as systemd's `EnvironmentFile=` reads it: blank lines and lines
/// starting with `#` or `;` are skipped, `export ` before a name is allowed, and a value may be
/// wrapped in single or double quotes. Warren's CLI reads one for defaults of its `WARREN_*`
/// variables (see `warren --help`), so the units and the CLI share one file.
public enum EnvironmentFile {
    /// The variables of `text` in file order; a malformed line is an error naming its number.
    public static func parse(_ text: String, file: String) throws(InputFileError) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw InputFileError(file: file, line: index + 1, column: 1, message: "expected NAME=value")
            }
            let name = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
                  name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }) else {
                throw InputFileError(file: file, line: index + 1, column: 1, message: "\"\(name)\" is not a variable name")
            }
            var value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            variables.append((name, value))
        }
        return variables
    }
}
