import Yams

/// The type of a YAML scalar under the YAML 1.2 core schema, decided without regular
/// expressions: Yams' own resolver runs several per scalar, which made loading large schedule
/// sets several times slower.
///
/// Quoted scalars are always text. Plain scalars are `null` (`null`, `~`, nothing), booleans
/// (`true`, `false` in three casings; not YAML 1.1's `yes`/`no`/`on`/`off`), integers (decimal,
/// `0x`, `0o`), floats (`1.5`, `1e3`, `.inf`, `.nan`), or else text.
enum ScalarValue: Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// An integer too large for 64 bits.
    case largeInteger(String)
    case float(Double)
    case text(String)

    /// Classifies a scalar composed with `Resolver.basic` (which leaves typing to this).
    init(_ scalar: Node.Scalar) {
        self = scalar.style == .plain ? Self.classifyPlain(scalar.string) : .text(scalar.string)
    }

    static func classifyPlain(_ string: String) -> ScalarValue {
        switch string {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        let utf8 = Array(string.utf8)
        guard let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return .text(string)
        }
        if isDecimalInteger(utf8) {
            return Int64(string.hasPrefix("+") ? String(string.dropFirst()) : string).map(ScalarValue.integer) ?? .largeInteger(string)
        }
        if string.hasPrefix("0x"), utf8.count > 2, let value = Int64(string.dropFirst(2), radix: 16) { return .integer(value) }
        if string.hasPrefix("0o"), utf8.count > 2, let value = Int64(string.dropFirst(2), radix: 8) { return .integer(value) }
        if isFloat(utf8), let value = Double(string) { return .float(value) }
        return .text(string)
    }

    /// `[-+]?[0-9]+`
    private static func isDecimalInteger(_ utf8: [UInt8]) -> Bool {
        var digits = utf8[...]
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ utf8: [UInt8]) -> Bool {
        var index = 0
        let digit = { (i: Int) in i < utf8.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[i]) }
        if index < utf8.count, utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") { index += 1 }
        var mantissaDigits = 0
        while digit(index) { index += 1; mantissaDigits += 1 }
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            while digit(index) { index += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if index < utf8.count, utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E") {
            index += 1
            if index < utf8.count, utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") { index += 1 }
            guard digit(index) else { return false }
            while digit(index) { index += 1 }
        }
        return index == utf8.count
    }
}
