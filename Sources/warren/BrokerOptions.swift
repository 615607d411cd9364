import ArgumentParser
import Foundation
import RabbitMQ

/// `--amqp-url` and the TLS flags shared by every command that talks to the broker.
struct BrokerOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"),
            help: "Broker URL(s), comma-separated for failover (env WARREN_AMQP_URL; default amqp://guest:guest@localhost:5672/).")
    var amqpURL: String?

    @Option(name: .customLong("tls-ca"), help: "PEM file of CAs to trust for amqps:// (default: the system store).")
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"), help: "PEM client certificate for amqps://.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM key of the client certificate.")
    var tlsKey: String?

    /// The connection configuration for a one-shot command (no reconnection, client warnings
    /// kept quiet); a bad URL is a usage error naming the argument.
    func configuration(connectionName: String) throws -> ConnectionConfiguration {
        var configuration = try serviceConfiguration(connectionName: connectionName)
        configuration.reconnect.enabled = false
        // One-shot commands report failures themselves, in one line: the client's own
        // warnings (each endpoint tried, …) would only repeat them.
        configuration.logger.logLevel = .error
        return configuration
    }

    /// The connection configuration for a long-running process: reconnects with backoff.
    func serviceConfiguration(connectionName: String) throws -> ConnectionConfiguration {
        let urls = amqpURL ?? ProcessInfo.processInfo.environment["WARREN_AMQP_URL"] ?? "amqp://guest:guest@localhost:5672/"
        do {
            var configuration = try ConnectionConfiguration(urls: urls, connectionName: connectionName)
            configuration.tls = TLSConfiguration(caCertificatePath: tlsCA, certificatePath: tlsCert, keyPath: tlsKey)
            return configuration
        } catch {
            throw ValidationError("--amqp-url: \(error)")
        }
    }

    /// Connects for a one-shot command; an unreachable broker is reported in one line on stderr
    /// (`warren COMMAND: broker unreachable: …`, password hidden) and exits 1.
    func connect(command: String) async throws -> Connection {
        let configuration = try configuration(connectionName: "warren-\(command)")
        do {
            return try await Connection.open(configuration)
        } catch {
            FileHandle.standardError.write(Data("warren \(command): broker unreachable: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
