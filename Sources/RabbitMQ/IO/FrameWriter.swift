import CRabbitMQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Coalesces the frames of many publishes and acknowledgements into one socket write on a plain
/// TCP connection.
///
/// `amqp_basic_publish` writes each message with three `send` calls (method, header and body
/// frames), and `amqp_send_method` each ack with one, so a busy client spends most of its CPU in
/// the kernel. The I/O thread instead encodes those frames here, with librabbitmq's own method
/// and property encoders, and writes the whole buffer once per loop turn. Every frame sent
/// through librabbitmq is preceded by a `flush`, so frames leave in the order they were sent.
/// TLS connections write through librabbitmq, which owns the TLS session.
final class FrameWriter {
    private static let frameHeaderSize = 7
    private static let frameOverhead = 8  // header and the frame-end octet

    private let fileDescriptor: Int32
    /// The largest frame the broker accepts, overhead included.
    private let frameMax: Int
    /// How long a full socket may take no bytes while the peer sends none either before the
    /// peer counts as lost (nil: wait for ever).
    private let stallLimit: Duration?
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0

    init(fileDescriptor: Int32, frameMax: Int, stallLimit: Duration?) {
        self.fileDescriptor = fileDescriptor
        self.frameMax = frameMax
        self.stallLimit = stallLimit
        capacity = max(64 * 1024, 2 * frameMax)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Nothing waits to be written.
    var isEmpty: Bool { count == 0 }

    /// Encodes one publish: its method, header and body frames. Returns a librabbitmq status.
    func appendPublish(channel: UInt16, method: inout amqp_basic_publish_t, properties: inout amqp_basic_properties_t,
                       body: UnsafeRawBufferPointer) -> Int32 {
        let methodStatus = appendMethod(AMQP_BASIC_PUBLISH_METHOD, &method, channel: channel)
        guard methodStatus == AMQP_STATUS_OK.rawValue else { return methodStatus }
        let headerStatus = appendFrame(type: AMQP_FRAME_HEADER, channel: channel) { payload, room in
            Self.put16(payload, UInt16(AMQP_BASIC_CLASS))
            Self.put16(payload + 2, 0)  // weight
            Self.put64(payload + 4, UInt64(body.count))
            let encoded = amqp_encode_properties(UInt16(AMQP_BASIC_CLASS), &properties,
                                                 amqp_bytes_t(len: room - 12, bytes: payload + 12))
            return encoded < 0 ? encoded : encoded + 12
        }
        guard headerStatus == AMQP_STATUS_OK.rawValue else { return headerStatus }
        var offset = 0
        while offset < body.count {
            let chunk = min(body.count - offset, frameMax - Self.frameOverhead)
            _ = appendFrame(type: AMQP_FRAME_BODY, channel: channel) { payload, _ in
                payload.copyMemory(from: body.baseAddress! + offset, byteCount: chunk)
                return Int32(chunk)
            }
            offset += chunk
        }
        return AMQP_STATUS_OK.rawValue
    }

    /// Encodes one method frame (`decoded` is the librabbitmq structure for `method`). Returns a
    /// librabbitmq status.
    func appendMethod<Method: BitwiseCopyable>(_ method: amqp_method_number_t, _ decoded: inout Method, channel: UInt16) -> Int32 {
        appendFrame(type: AMQP_FRAME_METHOD, channel: channel) { payload, room in
            Self.put32(payload, method)
            let encoded = amqp_encode_method(method, &decoded, amqp_bytes_t(len: room - 4, bytes: payload + 4))
            return encoded < 0 ? encoded : encoded + 4
        }
    }

    /// Writes everything encoded so far. Blocks while the socket is full, as librabbitmq's own
    /// sends do, but not for ever: when the peer takes no bytes and sends none (its heartbeats
    /// included) for `stallLimit`, it is gone (a black-holed network) and this returns
    /// `AMQP_STATUS_HEARTBEAT_TIMEOUT`. A broker that merely stops reading (a blocked connection)
    /// still sends heartbeats, and is waited for. Returns a librabbitmq status; on failure the
    /// buffer is dropped (the connection is failed by the caller and everything unconfirmed with it).
    func flush() -> Int32 {
        var sent = 0
        defer { count = 0 }
        // Since when the socket took nothing, and how many bytes had come in by then.
        var stall: (deadline: ContinuousClock.Instant, inbound: Int32)?
        while sent < count {
            let written = send(fileDescriptor, buffer + sent, count - sent, Int32(MSG_NOSIGNAL))
            if written > 0 {
                sent += written
                stall = nil
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var timeout: Int32 = -1
                if let stallLimit {
                    let now = ContinuousClock.now
                    let inbound = bytesReadable()
                    if let current = stall, current.inbound == inbound {
                        if now >= current.deadline { return AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue }
                    } else {
                        stall = (now + stallLimit, inbound)
                    }
                    timeout = Int32(clamping: stall!.deadline > now ? (stall!.deadline - now).milliseconds + 1 : 0)
                }
                var pollFD = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollFD, 1, timeout)
            } else {
                return AMQP_STATUS_SOCKET_ERROR.rawValue
            }
        }
        return AMQP_STATUS_OK.rawValue
    }

    /// Bytes received and not yet read from the socket: growing while the socket is full, they
    /// show the peer is still there.
    private func bytesReadable() -> Int32 {
        var available: Int32 = 0
        return ioctl(fileDescriptor, UInt(FIONREAD), &available) == 0 ? available : 0
    }

    /// Drops what has not been written (the connection is gone).
    func discard() { count = 0 }

    /// Appends one frame whose payload `encode` writes into at most `room` bytes and returns
    /// the payload's length (or a negative librabbitmq status).
    private func appendFrame(type: Int32, channel: UInt16,
                             encode: (_ payload: UnsafeMutableRawPointer, _ room: Int) -> Int32) -> Int32 {
        reserve(frameMax)
        let frame = buffer + count
        let room = frameMax - Self.frameOverhead
        let length = encode(frame + Self.frameHeaderSize, room)
        guard length >= 0 else { return length }
        frame.storeBytes(of: UInt8(type), as: UInt8.self)
        Self.put16(frame + 1, channel)
        Self.put32(frame + 3, UInt32(length))
        (frame + Self.frameHeaderSize + Int(length)).storeBytes(of: UInt8(AMQP_FRAME_END), as: UInt8.self)
        count += Self.frameHeaderSize + Int(length) + 1
        return AMQP_STATUS_OK.rawValue
    }

    private func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(capacity * 2, count + extra)
        let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        replacement.copyMemory(from: buffer, byteCount: count)
        buffer.deallocate()
        buffer = replacement
        capacity = grown
    }

    private static func put16(_ at: UnsafeMutableRawPointer, _ value: UInt16) {
        at.storeBytes(of: value.bigEndian, as: UInt16.self)
    }

    private static func put32(_ at: UnsafeMutableRawPointer, _ value: UInt32) {
        at.storeBytes(of: value.bigEndian, as: UInt32.self)
    }

    private static func put64(_ at: UnsafeMutableRawPointer, _ value: UInt64) {
        at.storeBytes(of: value.bigEndian, as: UInt64.self)
    }
}
