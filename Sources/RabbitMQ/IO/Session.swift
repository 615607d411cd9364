import CRabbitMQ
import CRabbitMQShim
import Foundation

/// One physical AMQP connection: a librabbitmq connection state with its socket, logged in.
/// Owned and used by exactly one I/O thread.
final class Session {
    let state: amqp_connection_state_t
    let endpoint: Endpoint
    let fileDescriptor: Int32
    /// A plain TCP socket, which this client may write to and poll directly. Over TLS, OpenSSL
    /// owns the bytes on the wire (and may hold decrypted ones that `poll` cannot see), so every
    /// read and write goes through librabbitmq.
    var usesPlainSocket: Bool { !endpoint.usesTLS }
    /// Negotiated heartbeat interval in seconds (0 = off).
    let heartbeatSeconds: Int
    /// The broker's server properties and the negotiated limits.
    let serverInfo: ServerInfo
    private var destroyed = false

    private init(state: amqp_connection_state_t, endpoint: Endpoint) {
        self.state = state
        self.endpoint = endpoint
        self.fileDescriptor = amqp_get_sockfd(state)
        self.heartbeatSeconds = Int(amqp_get_heartbeat(state))
        let properties = amqp_get_server_properties(state).map { FieldTable($0.pointee) } ?? [:]
        self.serverInfo = ServerInfo(
            product: properties["product"]?.stringValue, version: properties["version"]?.stringValue,
            clusterName: properties["cluster_name"]?.stringValue, heartbeatSeconds: heartbeatSeconds,
            frameMax: Int(amqp_get_frame_max(state)), channelMax: Int(amqp_get_channel_max(state)))
    }

    deinit { destroy() }

    /// Opens a socket (TCP or TLS), performs the AMQP handshake and logs in.
    static func open(_ endpoint: Endpoint, configuration: ConnectionConfiguration, arena: CArena) throws(AMQPError) -> Session {
        guard let state = amqp_new_connection() else {
            throw .connectionFailed(endpoint: endpoint.description, reason: "out of memory")
        }
        var ok = false
        defer { if !ok { amqp_destroy_connection(state) } }

        let socket: OpaquePointer?
        if endpoint.usesTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw .tlsFailed(endpoint: endpoint.description, reason: "cannot create a TLS socket") }
            let tls = configuration.tls
            if let ca = tls.caCertificatePath {
                guard amqp_ssl_socket_set_cacert(socket, ca) == AMQP_STATUS_OK.rawValue else {
                    throw .tlsFailed(endpoint: endpoint.description, reason: "cannot read CA certificates from \(ca)")
                }
            } else if warren_ssl_use_default_verify_paths(socket) != 1 {
                throw .tlsFailed(endpoint: endpoint.description, reason: "cannot load the system's CA certificates")
            }
            if let cert = tls.certificatePath {
                guard let key = tls.keyPath else {
                    throw .tlsFailed(endpoint: endpoint.description, reason: "a client certificate needs a key (--tls-key)")
                }
                guard amqp_ssl_socket_set_key(socket, cert, key) == AMQP_STATUS_OK.rawValue else {
                    throw .tlsFailed(endpoint: endpoint.description, reason: "cannot load client certificate \(cert) with key \(key)")
                }
            }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { throw .connectionFailed(endpoint: endpoint.description, reason: "cannot create a socket") }

        var timeout = timeval(configuration.connectTimeout)
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        if opened != AMQP_STATUS_OK.rawValue {
            throw Self.openError(opened, endpoint: endpoint, connectTimeout: configuration.connectTimeout)
        }
        _ = amqp_set_handshake_timeout(state, &timeout)
        _ = amqp_set_rpc_timeout(state, &timeout)

        arena.reset()
        var properties = arena.table([
            "product": "Warren",
            "connection_name": .string(configuration.connectionName),
            "capabilities": .table([
                "publisher_confirms": true,
                "consumer_cancel_notify": true,
                "connection.blocked": true,
                "basic.nack": true,
                "exchange_exchange_bindings": true,
                "authentication_failure_close": true,
            ]),
        ])
        let heartbeat = Int32(clamping: configuration.heartbeat.components.seconds)
        let reply = warren_amqp_login_plain(state, endpoint.vhost, 0, 131_072, heartbeat, &properties,
                                            endpoint.user, endpoint.password)
        arena.reset()
        try Self.check(reply, endpoint: endpoint)
        ok = true
        return Session(state: state, endpoint: endpoint)
    }

    /// Sends connection.close and waits briefly for close-ok, then releases everything.
    func close() {
        guard !destroyed else { return }
        var brief = timeval(tv_sec: 2, tv_usec: 0)
        _ = amqp_set_rpc_timeout(state, &brief)
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        destroy()
    }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        amqp_destroy_connection(state)
    }

    /// Why a socket did not open. librabbitmq says only "a socket error occurred" and leaves no
    /// errno behind; the system's reason (connection refused, no route to host, …) is what an
    /// operator needs, so a plain TCP connect asks for it.
    static func openError(_ status: Int32, endpoint: Endpoint, connectTimeout: Duration) -> AMQPError {
        var text = String(cString: amqp_error_string2(status))
        if status == AMQP_STATUS_SOCKET_ERROR.rawValue {
            let milliseconds = Int32(clamping: connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000)
            switch warren_tcp_probe(endpoint.host, Int32(endpoint.port), milliseconds) {
            case 0: break
            case -1: text = "cannot resolve host name \(endpoint.host)"
            case let code: text = String(cString: strerror(code)).lowercased()
            }
        }
        switch status {
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue,
             AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
            return .tlsFailed(endpoint: endpoint.description, reason: text)
        case AMQP_STATUS_TIMEOUT.rawValue:
            return .connectionFailed(endpoint: endpoint.description, reason: "timed out")
        default:
            return .connectionFailed(endpoint: endpoint.description, reason: text)
        }
    }

    private static func check(_ reply: amqp_rpc_reply_t, endpoint: Endpoint) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD,
               let close = reply.reply.decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee {
                let text = close.reply_text.string
                if close.reply_code == 403 || close.reply_code == 530 {
                    throw .accessRefused(endpoint: endpoint.description, text: "\(close.reply_code) \(text)")
                }
                throw .connectionClosed(code: close.reply_code, text: text)
            }
            throw .connectionFailed(endpoint: endpoint.description, reason: "unexpected reply during login")
        default:
            let status = reply.library_error
            if status == AMQP_STATUS_CONNECTION_CLOSED.rawValue || status == AMQP_STATUS_SOCKET_CLOSED.rawValue {
                // RabbitMQ closes the socket after a failed login when the client does not
                // advertise authentication_failure_close; with it, this is a genuine drop.
                throw .connectionFailed(endpoint: endpoint.description, reason: "broker closed the connection during login (wrong credentials or vhost?)")
            }
            throw .connectionFailed(endpoint: endpoint.description, reason: String(cString: amqp_error_string2(status)))
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
