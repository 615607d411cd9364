import Foundation

/// A TCP forwarder from a local port to the test broker, in a Python process: a broker that
/// "comes up" on that port when the forwarder starts, without restarting the shared broker.
public final class TCPForwarder: Sendable {
    /// Where the forwarder listens (once started) and what a test points its clients at.
    public let port: Int
    private let process: Process

    /// Listens on `port` and forwards each connection to the test broker's AMQP port.
    public init(port: Int) throws {
        let target = URLComponents(string: testBrokerURL)?.port ?? 5672
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, String(port), String(target)]
        let ready = Pipe()
        process.standardOutput = ready
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The script prints one line once it listens.
        _ = ready.fileHandleForReading.availableData
        self.port = port
        self.process = process
    }

    /// The test broker's URL with this forwarder's port (and the same virtual host).
    public static func url(_ brokerURL: String, port: Int) -> String {
        var components = URLComponents(string: brokerURL)!
        components.port = port
        return components.string!
    }

    /// Stops forwarding; open connections drop. SIGKILL: the test process may block SIGTERM
    /// (signal handling for the services it runs), and a child inherits that mask.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static let script = """
    import socket, sys, threading
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    print("listening", flush=True)
    def pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", target_port))
        for ends in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=ends, daemon=True).start()
    """
}
