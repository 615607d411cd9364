import Foundation

/// A virtual host of its own on the test broker, for tests that consume shared queues such as
/// `warren.results` (a backend in one test must not take another test's results).
public struct TestVirtualHost: Sendable {
    public let name: String
    /// The test broker's URL with this virtual host.
    public let url: String

    public static func create() async throws -> TestVirtualHost {
        let name = "warren-test-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await brokerCtl(["add_vhost", name], throttled: true)
        _ = try await brokerCtl(["set_permissions", "-p", name, "guest", ".*", ".*", ".*"], throttled: true)
        let base = testBrokerURL.hasSuffix("/") ? String(testBrokerURL.dropLast()) : testBrokerURL
        return TestVirtualHost(name: name, url: "\(base)/\(name)")
    }

    /// Messages ready and unacknowledged in `queue` (from rabbitmqctl), or nil when it does not exist.
    /// Consumers of `queue`, nil when it does not exist.
    public func consumers(of queue: String) async throws -> Int? {
        let text = try await brokerCtl(["list_queues", "-p", name, "-q", "--no-table-headers", "name", "consumers"])
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 2, fields[0] == queue, let count = Int(fields[1]) { return count }
        }
        return nil
    }

    public func depth(of queue: String) async throws -> (ready: Int, unacknowledged: Int)? {
        let text = try await brokerCtl(["list_queues", "-p", name, "-q", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged"])
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 3, fields[0] == queue, let ready = Int(fields[1]), let unacked = Int(fields[2]) { return (ready, unacked) }
        }
        return nil
    }

    /// Deletes the virtual host in the background (it is called from `defer`).
    public func delete() {
        brokerCtlInBackground(["delete_vhost", name])
    }
}
