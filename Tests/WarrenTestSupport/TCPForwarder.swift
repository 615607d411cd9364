import Foundation

/// A TCP forwarder from a local port to the test broker, in a Python process: a broker that
/// "comes up" on that port when the forwarder starts, without restarting the shared broker.
public final class TCPForwarder: Sendable {
    /// Where the forwarder listens (once started) and what a test points its clients at.
    public let port: Int
    private let process: Process

    /// Listens on `port` and forwards each connection to the test broker's AMQP port. The first
    /// `failingDeclares` connections are answered, at their first `queue.declare`, with the
    /// broker's `connection.close` 541 INTERNAL_ERROR instead (the declare never reaches the
    /// broker): a broker failing a service's start, on demand.
    public init(port: Int, failingDeclares: Int = 0) throws {
        let target = URLComponents(string: testBrokerURL)?.port ?? 5672
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, String(port), String(target), String(failingDeclares)]
        let ready = Pipe()
        process.standardOutput = ready
        process.standardError = FileHandle.nullDevice
        try? FileManager.default.removeItem(atPath: Self.counterPath(port))
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

    /// How many connections were answered with a 541 so far (0 without `failingDeclares`).
    public var failedDeclares: Int {
        (try? String(contentsOfFile: Self.counterPath(port), encoding: .utf8)).flatMap { Int($0) } ?? 0
    }

    private static func counterPath(_ port: Int) -> String { "/tmp/warren-forwarder-\(port).failed" }

    private static let script = """
    import os, socket, struct, sys, threading
    listen_port, target_port, failing = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    counter = "/tmp/warren-forwarder-%d.failed" % listen_port
    failed = 0
    def close_both(*ends):
        for end in ends:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    def fail_first_declare(client, upstream):
        # Client to broker frame by frame: type, channel, size, payload, end. At the first
        # queue.declare (class 50, method 10) answer as the broker would with a 541 instead.
        global failed
        buffer = b""
        header = False
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                if not header:
                    if len(buffer) < 8:
                        continue
                    upstream.sendall(buffer[:8])
                    buffer, header = buffer[8:], True
                while len(buffer) >= 7:
                    kind, channel, size = struct.unpack(">BHI", buffer[:7])
                    if len(buffer) < 8 + size:
                        break
                    frame, buffer = buffer[:8 + size], buffer[8 + size:]
                    if kind == 1 and frame[7:11] == struct.pack(">HH", 50, 10):
                        text = b"INTERNAL_ERROR - failed by the test forwarder"
                        payload = struct.pack(">HHHB", 10, 50, 541, len(text)) + text + struct.pack(">HH", 50, 10)
                        client.sendall(struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\\xce")
                        failed += 1
                        with open(counter, "w") as f:
                            f.write(str(failed))
                        upstream.close()
                        client.settimeout(2)
                        try:
                            client.recv(65536)
                        except OSError:
                            pass
                        client.close()
                        return
                    upstream.sendall(frame)
        except OSError:
            pass
        close_both(client, upstream)
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
        close_both(source, sink)
    accepted = 0
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", target_port))
        accepted += 1
        outward = fail_first_declare if accepted <= failing else pipe
        threading.Thread(target=outward, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    """
}
