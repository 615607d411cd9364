import CRabbitMQ
import Foundation

/// Reuses `String`s for byte sequences that repeat from message to message (consumer tags,
/// exchanges, routing keys), so each delivery neither allocates nor validates them anew (short
/// strings allocate nothing, but UTF-8 validation still costs more than comparing bytes).
/// I/O thread only.
struct StringInterner {
    private var entries: [(bytes: [UInt8], string: String)] = []
    private var nextSlot = 0
    private static let capacity = 16
    private static let longest = 96

    mutating func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0 else { return "" }
        guard bytes.len <= Self.longest, let start = bytes.bytes else { return bytes.string }
        for entry in entries where entry.bytes.count == bytes.len {
            if entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, start, bytes.len) == 0 }) { return entry.string }
        }
        let string = bytes.string
        let entry = (bytes: bytes.array, string: string)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[nextSlot] = entry
            nextSlot = (nextSlot + 1) % Self.capacity
        }
        return string
    }
}
