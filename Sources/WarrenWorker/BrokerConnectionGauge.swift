import CoreMetrics
import RabbitMQ
import Synchronization

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

    static func watch(_ connections: [Connection]) async {
        let gauge = Gauge(label: "warren_broker_connected")
        let states = States(count: connections.count)
        gauge.record(1)
        await withTaskGroup(of: Void.self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    for await event in connection.events {
                        switch event {
                        case .connected: gauge.record(states.set(index, true) ? 1 : 0)
                        case .disconnected: gauge.record(states.set(index, false) ? 1 : 0)
                        default: continue
                        }
                    }
                }
            }
        }
    }
}
