import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in front of a broker, for network faults a real broker cannot be
/// made to show: a peer that stops reading without closing (a black hole, as in a network
/// partition), a broker that cannot be reached for a while, a half-closed socket left hanging.
/// Each accepted connection is served by a thread of its own.
final class TCPProxy: Sendable {
    private struct State {
        var stopped = false
        /// Accepted connections are closed at once (the broker looks unreachable).
        var refusing = false
        /// Connections whose bytes no longer move in either direction, though both stay open.
        var blackHoled: Set<Int> = []
        /// Connections to close.
        var dropping: Set<Int> = []
        /// The client's port of each live connection, by connection number.
        var clientPorts: [Int: UInt16] = [:]
        var nextConnection = 0
        var accepted = 0
        /// On end of input from one side, end the other's too (as a real network does).
        var propagatesClose = true
        /// Connections whose next bytes from the broker get a heartbeat frame appended, sent
        /// in the same write (so the client reads both at once).
        var heartbeatAfterNextReply: Set<Int> = []
    }

    let port: UInt16
    private let listener: Int32
    private let targetPort: UInt16
    private let state = Mutex(State())

    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `targetPort` there.
    init(targetPort: UInt16) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw ProxyError(what: "cannot listen: \(String(cString: strerror(errno)))")
        }
        listener = fd
        port = Self.localPort(fd)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The URL of the broker behind this proxy (`scheme://guest:guest@HOST:PORT/`).
    func url(scheme: String = "amqp", host: String = "127.0.0.1") -> String {
        "\(scheme)://guest:guest@\(host):\(port)/"
    }

    /// How many connections were accepted so far (refused ones included).
    var acceptedCount: Int { state.withLock { $0.accepted } }

    /// While true, new connections are closed as soon as they are accepted.
    func refuse(_ refusing: Bool) { state.withLock { $0.refusing = refusing } }

    /// Whether end of input from one side is passed on to the other (default true).
    func propagateClose(_ propagate: Bool) { state.withLock { $0.propagatesClose = propagate } }

    /// Stops moving bytes on every live connection, without closing any: both peers see a
    /// silent network. Connections accepted later are forwarded normally.
    func blackHoleLiveConnections() {
        state.withLock { $0.blackHoled.formUnion($0.clientPorts.keys) }
    }

    /// Appends a heartbeat frame to the next bytes the broker sends on every live connection,
    /// in the same write: the client reads a frame and a heartbeat behind it at once, as it
    /// does when a broker's heartbeat follows a reply closely.
    func appendHeartbeatToNextReply() {
        state.withLock { $0.heartbeatAfterNextReply.formUnion($0.clientPorts.keys) }
    }

    /// Closes every live connection.
    func dropLiveConnections() {
        state.withLock { $0.dropping.formUnion($0.clientPorts.keys) }
    }

    /// The file descriptors of this process's sockets connected to the proxy (the client's
    /// ends of the live connections).
    func clientSocketDescriptors() -> [Int32] {
        let ports = Set(state.withLock { $0.clientPorts.values })
        return (3..<Int32(4096)).filter { fd in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let isPeer = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
            }
            guard isPeer == 0, address.sin_family == sa_family_t(AF_INET), UInt16(bigEndian: address.sin_port) == port else {
                return false
            }
            return ports.contains(Self.localPort(fd))
        }
    }

    /// Closes the listener and every connection.
    func stop() {
        state.withLock { $0.stopped = true }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !state.withLock({ $0.stopped }) {
            var fds = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&fds, 1, 50) > 0 else { continue }
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let client = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard client >= 0 else { continue }
            let (refusing, number) = state.withLock { state -> (Bool, Int) in
                state.accepted += 1
                state.nextConnection += 1
                if !state.refusing { state.clientPorts[state.nextConnection] = UInt16(bigEndian: peer.sin_port) }
                return (state.refusing, state.nextConnection)
            }
            if refusing {
                close(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var target = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                _ = state.withLock { $0.clientPorts.removeValue(forKey: number) }
                continue
            }
            let thread = Thread { [self] in forward(number, client: client, upstream: upstream) }
            thread.start()
        }
    }

    /// Moves bytes both ways until either side fails, both have ended, or the proxy is told to
    /// drop the connection or stop.
    private func forward(_ number: Int, client: Int32, upstream: Int32) {
        defer {
            close(client)
            close(upstream)
            state.withLock {
                $0.clientPorts[number] = nil
                $0.blackHoled.remove(number)
                $0.dropping.remove(number)
                $0.heartbeatAfterNextReply.remove(number)
            }
        }
        var open = [true, true]  // reading client, reading upstream
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 1)
        defer { buffer.deallocate() }
        while open[0] || open[1] {
            let (stopped, blackHoled, dropping, propagate) = state.withLock {
                ($0.stopped, $0.blackHoled.contains(number), $0.dropping.contains(number), $0.propagatesClose)
            }
            if stopped || dropping { return }
            if blackHoled {
                usleep(20_000)
                continue
            }
            var fds = [pollfd(fd: open[0] ? client : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? upstream : -1, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 20) > 0 else { continue }
            for side in 0..<2 where fds[side].revents != 0 {
                let from = side == 0 ? client : upstream
                let to = side == 0 ? upstream : client
                let count = recv(from, buffer, 65_536, 0)
                if count < 0 { return }
                if count == 0 {
                    open[side] = false
                    if propagate { shutdown(to, Int32(SHUT_WR)) }
                    continue
                }
                var total = count
                if side == 1, count + 8 <= 65_536, state.withLock({ $0.heartbeatAfterNextReply.remove(number) != nil }) {
                    // Type 8 (heartbeat), channel 0, size 0, frame end 0xCE.
                    let heartbeat: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0xCE]
                    heartbeat.withUnsafeBytes { (buffer + count).copyMemory(from: $0.baseAddress!, byteCount: 8) }
                    total += 8
                }
                var sent = 0
                while sent < total {
                    let written = send(to, buffer + sent, total - sent, Int32(MSG_NOSIGNAL))
                    if written <= 0 { return }
                    sent += written
                }
            }
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func localPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    struct ProxyError: Error, CustomStringConvertible {
        var what: String
        var description: String { "test proxy: \(what)" }
    }
}
