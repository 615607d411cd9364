/// ISO-8601 timestamps: written with the zone's UTC offset, read with or without one.
public enum Timestamp {
    /// Writes `instant` as wall-clock time in `zone` with its offset, e.g.
    /// `2026-03-08T03:00:00-07:00` (`+00:00` for UTC; seconds in the offset only when nonzero).
    public static func format(_ instant: Int64, in zone: ZoneRules) -> String {
        let offset = zone.offset(at: instant)
        let time = LocalDateTime(localSeconds: instant + offset)
        let magnitude = abs(offset)
        guard (0...9999).contains(time.year), magnitude < 100 * 3600 else {
            let sign = offset < 0 ? "-" : "+"
            var text = "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))T"
            text += "\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2))"
            text += "\(sign)\(pad(magnitude / 3600, 2)):\(pad(magnitude / 60 % 60, 2))"
            if magnitude % 60 != 0 { text += ":\(pad(magnitude % 60, 2))" }
            return text
        }
        // Written digit by digit: this runs twice for every fire.
        let withSeconds = magnitude % 60 != 0
        return String(unsafeUninitializedCapacity: withSeconds ? 28 : 25) { buffer in
            writeDateTime(time, into: buffer)
            buffer[19] = UInt8(ascii: offset < 0 ? "-" : "+")
            writeDigits(magnitude / 3600, 2, into: buffer, at: 20)
            buffer[22] = UInt8(ascii: ":")
            writeDigits(magnitude / 60 % 60, 2, into: buffer, at: 23)
            guard withSeconds else { return 25 }
            buffer[25] = UInt8(ascii: ":")
            writeDigits(magnitude % 60, 2, into: buffer, at: 26)
            return 28
        }
    }

    /// Writes `instant` (seconds since the epoch) in UTC with `Z`: `2026-03-08T10:00:00Z`.
    public static func formatUTC(seconds instant: Int64) -> String {
        let time = LocalDateTime(localSeconds: instant)
        guard (0...9999).contains(time.year) else { return String(format(instant, in: .utc).dropLast(6)) + "Z" }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            writeDateTime(time, into: buffer)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// Writes a UTC instant given in milliseconds since the epoch with millisecond precision:
    /// `2026-11-23T11:50:57.121Z`.
    public static func formatUTC(milliseconds: Int64) -> String {
        let seconds = CivilTime.floorDivide(milliseconds, 1000)
        let time = LocalDateTime(localSeconds: seconds)
        guard (0...9999).contains(time.year) else {
            return "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))T\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2)).\(pad(milliseconds - seconds * 1000, 3))Z"
        }
        // Written digit by digit: this runs twice for every task result.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            writeDateTime(time, into: buffer)
            buffer[19] = UInt8(ascii: ".")
            writeDigits(Int(milliseconds - seconds * 1000), 3, into: buffer, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS` into the first 19 bytes of `buffer`; the year is within 0...9999.
    private static func writeDateTime(_ time: LocalDateTime, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        writeDigits(Int(time.year), 4, into: buffer, at: 0)
        buffer[4] = UInt8(ascii: "-")
        writeDigits(time.month, 2, into: buffer, at: 5)
        buffer[7] = UInt8(ascii: "-")
        writeDigits(time.day, 2, into: buffer, at: 8)
        buffer[10] = UInt8(ascii: "T")
        writeDigits(time.hour, 2, into: buffer, at: 11)
        buffer[13] = UInt8(ascii: ":")
        writeDigits(time.minute, 2, into: buffer, at: 14)
        buffer[16] = UInt8(ascii: ":")
        writeDigits(time.second, 2, into: buffer, at: 17)
    }

    /// `value` (not negative) as exactly `width` decimal digits at `offset`.
    private static func writeDigits(_ value: some BinaryInteger, _ width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var value = Int(value)
        for index in stride(from: offset + width - 1, through: offset, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }

    /// Reads `2026-03-08`, `2026-03-08T03:00`, `2026-03-08T03:00:00.250`, each optionally
    /// followed by `Z` or an offset (`+01:00`, `+0100`, `+01`), into seconds since the epoch
    /// (fractions dropped). Without an offset the time is read in `zone`: a time skipped by a
    /// spring-forward means the first instant after the gap, a repeated one its first pass.
    public static func parse(_ text: String, in zone: ZoneRules) throws(TimestampError) -> Int64 {
        var reader = Reader(Array(text.utf8), text: text)
        let year = try reader.digits(4, "year")
        try reader.expect("-", "\"-\" after the year")
        let month = try reader.digits(2, "month")
        try reader.expect("-", "\"-\" after the month")
        let day = try reader.digits(2, "day")
        guard (1...12).contains(month) else { throw reader.error("month \(month) is not 1-12") }
        guard (1...CivilTime.daysInMonth(year: Int64(year), month: month)).contains(day) else {
            throw reader.error("day \(day) does not exist in \(pad(Int64(year), 4))-\(pad(month, 2))")
        }
        var (hour, minute, second) = (0, 0, 0)
        if reader.peek(["T", "t", " "]) {
            reader.skip()
            hour = try reader.digits(2, "hour")
            try reader.expect(":", "\":\" after the hour")
            minute = try reader.digits(2, "minute")
            if reader.peek([":"]) {
                reader.skip()
                second = try reader.digits(2, "second")
                if reader.peek([".", ","]) {
                    reader.skip()
                    guard reader.skipDigits() > 0 else { throw reader.error("expected digits after the decimal point") }
                }
            }
            guard hour < 24, minute < 60, second < 60 else { throw reader.error("time \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)) does not exist") }
        }
        let local = LocalDateTime(year: Int64(year), month: month, day: day, hour: hour, minute: minute, second: second).localSeconds
        if reader.atEnd { return zone.firstInstant(forLocal: local) }
        if reader.peek(["Z", "z"]) {
            reader.skip()
            guard reader.atEnd else { throw reader.error("unexpected text after \"Z\"") }
            return local
        }
        guard reader.peek(["+", "-"]) else { throw reader.error("expected \"Z\" or an offset such as +01:00") }
        let negative = reader.peek(["-"])
        reader.skip()
        let offsetHours = try reader.digits(2, "offset hours")
        var offsetMinutes = 0
        if reader.peek([":"]) { reader.skip() }
        if !reader.atEnd { offsetMinutes = try reader.digits(2, "offset minutes") }
        guard reader.atEnd else { throw reader.error("unexpected text after the offset") }
        guard offsetHours <= 18, offsetMinutes < 60 else { throw reader.error("offset out of range") }
        let offset = Int64(offsetHours * 3600 + offsetMinutes * 60) * (negative ? -1 : 1)
        return local - offset
    }

    static func pad(_ value: some BinaryInteger, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private struct Reader {
        let bytes: [UInt8]
        let text: String
        var position = 0

        init(_ bytes: [UInt8], text: String) {
            self.bytes = bytes
            self.text = text
        }

        var atEnd: Bool { position == bytes.count }

        func peek(_ characters: [Character]) -> Bool {
            guard position < bytes.count else { return false }
            return characters.contains(Character(Unicode.Scalar(bytes[position])))
        }

        mutating func skip() { position += 1 }

        mutating func skipDigits() -> Int {
            let start = position
            while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
            return position - start
        }

        mutating func digits(_ count: Int, _ what: String) throws(TimestampError) -> Int {
            var value = 0
            for _ in 0..<count {
                guard position < bytes.count, (48...57).contains(bytes[position]) else {
                    throw error("expected \(count) digits for the \(what)")
                }
                value = value * 10 + Int(bytes[position] - 48)
                position += 1
            }
            return value
        }

        mutating func expect(_ character: Character, _ what: String) throws(TimestampError) {
            guard peek([character]) else { throw error("expected \(what)") }
            position += 1
        }

        func error(_ reason: String) -> TimestampError {
            TimestampError(text: text, reason: "\(reason) (at character \(position + 1)); expected e.g. 2026-03-08T03:00:00Z")
        }
    }
}

/// A timestamp that could not be read.
public struct TimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "invalid timestamp \"\(text)\": \(reason)" }
}

extension ZoneRules {
    /// The first instant whose wall-clock time in this zone is `local`, or the first instant
    /// after the gap when a spring-forward skips it.
    public func firstInstant(forLocal local: Int64) -> Int64 {
        var segment = self.segment(containing: local - 50_400)
        while true {
            let candidate = local - segment.offset
            if candidate >= segment.start, candidate < segment.end { return candidate }
            guard segment.end != .max else { return candidate }
            let next = self.segment(containing: segment.end)
            if local < segment.end + next.offset { return segment.end }  // in the gap
            segment = next
        }
    }
}
