import Foundation
import Synchronization

/// Ports for the servers tests start (HTTP, metrics).
///
/// Each port is handed out once per test process and lies below the kernel's ephemeral range
/// (32768 and up on Linux), so no outgoing connection of any test can be holding it; a port some
/// other program listens on is skipped by trying to bind it first.
public enum TestPorts {
    private static let next = Mutex(20_000 + Int(getpid() % 500) * 20)

    /// A free TCP port on 127.0.0.1 that no other test of this process has been given.
    public static func free() -> Int {
        while true {
            let port = next.withLock { value -> Int in
                value = value >= 32_000 ? 20_000 : value + 1
                return value
            }
            if canBind(port) { return port }
        }
    }

    private static func canBind(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var reuse: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
