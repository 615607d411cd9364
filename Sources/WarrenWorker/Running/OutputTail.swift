/// The last `limit` bytes of a stream of output.
struct OutputTail {
    let limit: Int
    private var bytes: [UInt8] = []
    private(set) var dropped = 0

    init(limit: Int) {
        self.limit = limit
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        if bytes.count > 2 * max(limit, 4096) { trim() }
    }

    private mutating func trim() {
        guard bytes.count > limit else { return }
        dropped += bytes.count - limit
        bytes.removeFirst(bytes.count - limit)
    }

    /// The tail as text (invalid UTF-8 repaired), nil when there was no output.
    mutating func text() -> String? {
        trim()
        guard !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
