import CRabbitMQ
import Foundation

// Copies of librabbitmq's decoded structures into Swift values. The C memory belongs to the
// connection's frame pools and is released each loop turn, so everything is copied at once.

extension amqp_bytes_t {
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }
}

extension FieldTable {
    init(_ table: amqp_table_t) {
        var result: FieldTable = [:]
        if table.num_entries > 0, let entries = table.entries {
            result.reserveCapacity(Int(table.num_entries))
            for index in 0..<Int(table.num_entries) {
                result[entries[index].key.string] = FieldValue(entries[index].value)
            }
        }
        self = result
    }
}

extension FieldValue {
    init(_ field: amqp_field_value_t) {
        switch UInt32(field.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: self = .bool(field.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: self = .int8(field.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: self = .uint8(field.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: self = .int16(field.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: self = .uint16(field.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: self = .int32(field.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: self = .uint32(field.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: self = .int64(field.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: self = .uint64(field.value.u64)
        case AMQP_FIELD_KIND_F32.rawValue: self = .float(field.value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: self = .double(field.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            self = .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8.rawValue: self = .string(field.value.bytes.string)
        case AMQP_FIELD_KIND_BYTES.rawValue: self = .bytes(field.value.bytes.array)
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue:
            self = .timestamp(Date(timeIntervalSince1970: TimeInterval(field.value.u64)))
        case AMQP_FIELD_KIND_TABLE.rawValue: self = .table(FieldTable(field.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            var items: [FieldValue] = []
            let array = field.value.array
            if array.num_entries > 0, let entries = array.entries {
                for index in 0..<Int(array.num_entries) { items.append(FieldValue(entries[index])) }
            }
            self = .array(items)
        default: self = .void
        }
    }
}
