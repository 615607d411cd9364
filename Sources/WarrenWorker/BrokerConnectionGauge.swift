import CoreMetrics
import RabbitMQ
import Synchronization
import WarrenMessaging

/// `warren_broker_connected`: 1 while every one of the worker's connections is up, else 0.
enum BrokerConnectionGauge {
    /// Which connections are up.
    private final class States: Sendable {
        let up: Mutex<[Bool]>
        init(count: Int) { up = Mutex(Array(repeating: true, count: count)) }

        /// Records connection `index` as up or down; returns whether all are up.
        func set(_ index: Int, _ isUp: Bool) -> Bool {
            up.withLock { $0[index] = isUp; return !$0.contains(false) }
        }
    }

    /// Follows the connections' events into the gauge and `readiness` (part `broker`).
    static func watch(_ connections: [Connection], readiness: Readiness) async {
        let gauge = Gauge(label: "warren_broker_connected")
        let states = States(count: connections.count)
        gauge.record(1)
        await withTaskGroup(of: Void.self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    for await event in connection.events {
                        switch event {
                        case .connected, .disconnected:
                            let up: Bool
                            if case .connected = event { up = true } else { up = false }
                            let all = states.set(index, up)
                            gauge.record(all ? 1 : 0)
                            readiness.set("broker", all ? nil : "a connection to the broker is down; reconnecting")
                        default: continue
                        }
                    }
                }
            }
        }
    }
}
