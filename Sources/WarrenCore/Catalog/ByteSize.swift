/// Sizes as written in catalogs and on the command line: `512`, `64KiB`, `1MiB`, `10KB`, `2MB`.
public enum ByteSize {
    static let units: [(String, Int)] = [
        ("B", 1), ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024),
        ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000),
    ]

    /// Parses a size; nil when `text` is not one.
    public static func parse(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 12, let value = Int(digits) else { return nil }
        let unit = text.dropFirst(digits.count)
        if unit.isEmpty { return value }
        guard let multiplier = units.first(where: { $0.0 == unit })?.1 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
