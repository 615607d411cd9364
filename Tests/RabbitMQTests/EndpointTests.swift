import Testing
@testable import RabbitMQ

@Suite("Broker URLs")
struct EndpointTests {
    @Test("full URL with percent-encoded credentials and vhost")
    func full() throws {
        let e = try Endpoint(url: "amqp://us%40er:p%3Ass@broker.example:5673/my%2Fvhost")
        #expect(e.host == "broker.example")
        #expect(e.port == 5673)
        #expect(e.user == "us@er")
        #expect(e.password == "p:ss")
        #expect(e.vhost == "my/vhost")
        #expect(!e.usesTLS)
    }

    @Test("defaults: guest, port by scheme, vhost /")
    func defaults() throws {
        let plain = try Endpoint(url: "amqp://localhost")
        #expect(plain.port == 5672)
        #expect(plain.vhost == "/")
        #expect(plain.user == "guest" && plain.password == "guest")
        let tls = try Endpoint(url: "amqps://h/")
        #expect(tls.port == 5671)
        #expect(tls.usesTLS)
        #expect(tls.vhost == "/")
        #expect(try Endpoint(url: "amqp://h/%2F").vhost == "/")
    }

    @Test("IPv6 host in brackets")
    func ipv6() throws {
        let e = try Endpoint(url: "amqp://u:p@[::1]:5700/v")
        #expect(e.host == "::1")
        #expect(e.port == 5700)
        #expect(e.description == "amqp://u:***@[::1]:5700/v")
    }

    @Test("a comma-separated list keeps its order")
    func list() throws {
        let list = try Endpoint.list("amqp://a:5672/, amqp://b:5673/,amqps://c/")
        #expect(list.map(\.host) == ["a", "b", "c"])
        #expect(list.map(\.port) == [5672, 5673, 5671])
    }

    @Test("descriptions and errors never contain the password")
    func redaction() throws {
        let e = try Endpoint(url: "amqp://admin:s3cret@h:5672/")
        #expect(!e.description.contains("s3cret"))
        #expect(e.description == "amqp://admin:***@h:5672/")
        #expect(throws: AMQPError.invalidURL("amqp://admin:***@h:notaport/", reason: "port 'notaport' is not a number from 1 to 65535")) {
            try Endpoint(url: "amqp://admin:s3cret@h:notaport/")
        }
    }

    @Test("bad URLs name the problem", arguments: [
        ("http://h/", "it must start with amqp:// or amqps://"),
        ("amqp://h:0/", "port '0' is not a number from 1 to 65535"),
        ("amqp://[::1/", "unclosed '[' in an IPv6 host"),
        ("amqp://h/%zz", "bad percent-encoding in the vhost"),
    ])
    func bad(url: String, reason: String) {
        #expect(throws: AMQPError.invalidURL(url, reason: reason)) { try Endpoint(url: url) }
    }

    @Test("an empty list is an error")
    func emptyList() {
        #expect(throws: AMQPError.invalidURL("", reason: "no broker URL given")) { try Endpoint.list(" , ") }
    }

    @Test("reconnect delays grow exponentially up to the cap, with bounded jitter")
    func backoff() {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2), jitter: 0.5)
        #expect(policy.delay(attempt: 0, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(attempt: 3, random: 0.5) == .milliseconds(800))
        #expect(policy.delay(attempt: 10, random: 0.5) == .seconds(2))
        #expect(policy.delay(attempt: 10, random: 0) == .seconds(1))
        #expect(policy.delay(attempt: 10, random: 1) == .seconds(3))
    }
}
