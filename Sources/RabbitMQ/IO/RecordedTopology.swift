/// Exchanges, queues and bindings this client declared, in declaration order, so they can be
/// declared again after a reconnection (exclusive and auto-delete queues vanish with the old
/// connection; a broker restart loses non-durable ones). Server-named queues are not recorded.
struct RecordedTopology {
    enum Declaration: Equatable {
        case exchange(ExchangeSpec)
        case queue(QueueSpec)
        case binding(QueueBinding)
        case exchangeBinding(ExchangeBinding)
    }

    private(set) var declarations: [Declaration] = []

    mutating func record(_ declaration: Declaration) {
        switch declaration {
        case .exchange(let spec):
            declarations.removeAll { if case .exchange(let e) = $0 { return e.name == spec.name }; return false }
        case .queue(let spec):
            if spec.name.isEmpty { return }
            declarations.removeAll { if case .queue(let q) = $0 { return q.name == spec.name }; return false }
        case .binding(let binding):
            declarations.removeAll { $0 == .binding(binding) }
        case .exchangeBinding(let binding):
            declarations.removeAll { $0 == .exchangeBinding(binding) }
        }
        declarations.append(declaration)
    }

    mutating func forgetExchange(_ name: String) {
        declarations.removeAll {
            switch $0 {
            case .exchange(let e): return e.name == name
            case .binding(let b): return b.exchange == name
            case .exchangeBinding(let b): return b.source == name || b.destination == name
            case .queue: return false
            }
        }
    }

    mutating func forgetQueue(_ name: String) {
        declarations.removeAll {
            switch $0 {
            case .queue(let q): return q.name == name
            case .binding(let b): return b.queue == name
            case .exchange, .exchangeBinding: return false
            }
        }
    }

    /// Whether `name` is recorded as an auto-delete queue.
    func isAutoDeleteQueue(_ name: String) -> Bool {
        declarations.contains { if case .queue(let q) = $0 { return q.name == name && q.autoDelete }; return false }
    }

    mutating func forgetBinding(_ binding: QueueBinding) {
        declarations.removeAll { $0 == .binding(binding) }
    }

    /// The request that declares a recorded item again.
    static func request(for declaration: Declaration) -> RPCRequest {
        switch declaration {
        case .exchange(let spec): return .exchangeDeclare(spec, passive: false)
        case .queue(let spec): return .queueDeclare(spec)
        case .binding(let binding): return .queueBind(binding)
        case .exchangeBinding(let binding): return .exchangeBind(binding)
        }
    }
}
