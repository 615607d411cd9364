import CRabbitMQ
import Foundation

/// Memory for the C structures of one outgoing method: strings, tables and arrays are copied
/// here, handed to librabbitmq (which encodes them synchronously), and released by `reset()`.
/// A bump allocator over one reusable block, so a send costs no malloc; anything larger than
/// the block gets its own allocation. Used only on a connection's I/O thread.
final class CArena {
    private static let blockSize = 64 * 1024
    private let block = UnsafeMutableRawPointer.allocate(byteCount: CArena.blockSize, alignment: 16)
    private var used = 0
    private var overflow: [UnsafeMutableRawPointer] = []

    deinit {
        reset()
        block.deallocate()
    }

    func reset() {
        used = 0
        if !overflow.isEmpty {
            for extra in overflow { free(extra) }
            overflow.removeAll(keepingCapacity: true)
        }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let start = (used + 15) & ~15
        if start + size <= Self.blockSize {
            used = start + size
            return block + start
        }
        let extra = malloc(max(size, 1))!
        overflow.append(extra)
        return extra
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { copy(UnsafeRawBufferPointer($0)) }
    }

    func copy(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        if buffer.isEmpty { return amqp_empty_bytes }
        let block = allocate(buffer.count)
        block.copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        return amqp_bytes_t(len: buffer.count, bytes: block)
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { copy($0) }
    }

    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        let block = allocate(utf8.count)
        utf8.withUnsafeBytes { block.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        return UnsafePointer(block.assumingMemoryBound(to: CChar.self))
    }

    func table(_ table: FieldTable?) -> amqp_table_t {
        guard let table, !table.isEmpty else { return amqp_empty_table }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        // Sorted keys make the encoding deterministic (tests and reproducible captures).
        for (index, key) in table.keys.sorted().enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: field(table[key]!))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func field(_ value: FieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(k.rawValue) }
        switch value {
        case .bool(let v): field.kind = kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = v ? 1 : 0
        case .int8(let v): field.kind = kind(AMQP_FIELD_KIND_I8); field.value.i8 = v
        case .uint8(let v): field.kind = kind(AMQP_FIELD_KIND_U8); field.value.u8 = v
        case .int16(let v): field.kind = kind(AMQP_FIELD_KIND_I16); field.value.i16 = v
        case .uint16(let v): field.kind = kind(AMQP_FIELD_KIND_U16); field.value.u16 = v
        case .int32(let v): field.kind = kind(AMQP_FIELD_KIND_I32); field.value.i32 = v
        case .uint32(let v): field.kind = kind(AMQP_FIELD_KIND_U32); field.value.u32 = v
        case .int64(let v): field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = v
        case .uint64(let v): field.kind = kind(AMQP_FIELD_KIND_U64); field.value.u64 = v
        case .float(let v): field.kind = kind(AMQP_FIELD_KIND_F32); field.value.f32 = v
        case .double(let v): field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = v
        case .decimal(let scale, let v):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL); field.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let s): field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(s)
        case .bytes(let b): field.kind = kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(b)
        case .timestamp(let d):
            field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = UInt64(max(0, d.timeIntervalSince1970))
        case .void: field.kind = kind(AMQP_FIELD_KIND_VOID)
        case .table(let t): field.kind = kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(t)
        case .array(let items):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(items.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(items.count, 1))
            for (index, item) in items.enumerated() { entries[index] = self.field(item) }
            field.value.array = amqp_array_t(num_entries: Int32(items.count), entries: entries)
        }
        return field
    }

    func properties(_ p: BasicProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let v = p.contentType { c.content_type = bytes(v); flags |= UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG) }
        if let v = p.contentEncoding { c.content_encoding = bytes(v); flags |= UInt32(AMQP_BASIC_CONTENT_ENCODING_FLAG) }
        if let v = p.headers { c.headers = table(v); flags |= UInt32(AMQP_BASIC_HEADERS_FLAG) }
        if let v = p.deliveryMode { c.delivery_mode = v; flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG) }
        if let v = p.priority { c.priority = v; flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG) }
        if let v = p.correlationID { c.correlation_id = bytes(v); flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG) }
        if let v = p.replyTo { c.reply_to = bytes(v); flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG) }
        if let v = p.expiration { c.expiration = bytes(v); flags |= UInt32(AMQP_BASIC_EXPIRATION_FLAG) }
        if let v = p.messageID { c.message_id = bytes(v); flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG) }
        if let v = p.timestamp { c.timestamp = UInt64(max(0, v.timeIntervalSince1970)); flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG) }
        if let v = p.type { c.type = bytes(v); flags |= UInt32(AMQP_BASIC_TYPE_FLAG) }
        if let v = p.userID { c.user_id = bytes(v); flags |= UInt32(AMQP_BASIC_USER_ID_FLAG) }
        if let v = p.appID { c.app_id = bytes(v); flags |= UInt32(AMQP_BASIC_APP_ID_FLAG) }
        c._flags = flags
        return c
    }
}
