import Foundation
import Testing
@testable import RabbitMQ

@Suite("TLS with verification on by default")
struct TLSTests {
    var directory: String { TestBroker.tlsDirectory }

    @Test("connects over TLS when the CA is trusted; publish and consume work")
    func verified() async throws {
        let connection = try await TestBroker.connect(url: TestBroker.tlsURL, tls: TLSConfiguration(caCertificatePath: "\(directory)/ca.pem"))
        defer { Task { await connection.close() } }
        #expect(connection.endpoint?.usesTLS == true)
        let channel = try await connection.openChannel()
        let queue = TestBroker.unique("tls")
        try await channel.declare(QueueSpec(name: queue, durable: false, autoDelete: true))
        try await channel.publish(Data(repeating: 7, count: 300_000), routingKey: queue)
        let collector = DeliveryCollector(try await channel.consume(queue: queue))
        try await collector.wait(for: 1)
        #expect(collector.deliveries[0].body == Data(repeating: 7, count: 300_000))
        collector.stop()
    }

    @Test("presents a client certificate when given one")
    func clientCertificate() async throws {
        let tls = TLSConfiguration(caCertificatePath: "\(directory)/ca.pem", certificatePath: "\(directory)/client.pem",
                                   keyPath: "\(directory)/client.key")
        let connection = try await TestBroker.connect(url: TestBroker.tlsURL, tls: tls)
        defer { Task { await connection.close() } }
        _ = try await connection.openChannel()
        let listing = try await TestBroker.ctl(["list_connections", "client_properties", "peer_cert_subject", "--no-table-headers", "-q"])
        #expect(listing.split(separator: "\n").contains { $0.contains(connection.name) && $0.contains("CN=localhost") })
    }

    /// Connecting must fail with `tlsFailed`: verification refused the broker's certificate.
    func expectRefusal(_ tls: TLSConfiguration, _ why: String) async throws {
        do {
            _ = try await TestBroker.connect(url: TestBroker.tlsURL, tls: tls)
            Issue.record("\(why) must be refused")
        } catch let error as AMQPError {
            guard case .tlsFailed = error else { Issue.record("expected tlsFailed, got \(error)"); return }
        }
    }

    @Test("refuses a broker whose certificate is not signed by the trusted CA")
    func wrongCA() async throws {
        try await expectRefusal(TLSConfiguration(caCertificatePath: "\(directory)/other-ca.pem"),
                                "a certificate from an untrusted CA")
    }

    @Test("refuses by default when no CA is given and the system store does not trust the broker")
    func defaultStore() async throws {
        try await expectRefusal(TLSConfiguration(), "a throwaway CA unknown to the system store")
    }

    @Test("a missing CA file is reported by path")
    func missingCAFile() async throws {
        do {
            _ = try await TestBroker.connect(url: TestBroker.tlsURL, tls: TLSConfiguration(caCertificatePath: "/nonexistent/ca.pem"))
            Issue.record("a missing CA file must fail")
        } catch let error as AMQPError {
            #expect("\(error)".contains("/nonexistent/ca.pem"))
        }
    }
}
