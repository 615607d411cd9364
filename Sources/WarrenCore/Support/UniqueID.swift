import Synchronization

/// 64-bit ids that need to be unique, not secret (span ids, trace ids, run ids): SplitMix64
/// over a counter from a random start, so one system call per process instead of one per id.
/// SplitMix64 is a bijection, so a process never repeats an id; never zero.
enum UniqueID {
    static func next() -> UInt64 {
        var value = seed &+ counter.wrappingAdd(1, ordering: .relaxed).newValue &* 0x9E37_79B9_7F4A_7C15
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        value ^= value >> 31
        return value == 0 ? 1 : value
    }

    /// A new id as 16 lower-case hex digits.
    static func nextHex() -> String {
        let value = next()
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = digit(value, index) }
            return 16
        }
    }

    /// Writes `value` as 16 lower-case hex digits at `offset`.
    static func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<16 { bytes[offset + index] = digit(value, index) }
    }

    /// The `index`th hex digit of `value`, most significant first.
    private static func digit(_ value: UInt64, _ index: Int) -> UInt8 {
        let nibble = UInt8((value >> (60 - 4 * UInt64(index))) & 0xf)
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static let seed = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)
}
