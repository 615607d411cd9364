import CRabbitMQ
import Foundation
import Logging

/// Commands posted by callers (I/O thread).
extension ConnectionCore {
    // MARK: - Commands

    func handle(_ command: Command) {
        if case .close(let completion) = command {
            exitRequested = true
            closeCompletions.append(completion)
            return
        }
        if dead {
            fail(command, with: .notConnected)
            return
        }
        switch command {
        case .openChannel(let number, let confirms, let completion):
            openChannel(number, confirms: confirms, completion: completion)
        case .rpc(let number, let request, let completion):
            if case .channelClose = request, let channel = channels[number], session == nil || !channel.openSent {
                // Not open on the broker (disconnected, or not yet reopened): forgetting it is the
                // whole close. Kept, it would be reopened with the connection and its number,
                // free for a new channel, would be opened twice (504).
                forget(channel)
                return completion(.success(.done))
            }
            guard session != nil else { return completion(.failure(.notConnected)) }
            guard let channel = channels[number] else { return completion(.failure(Self.channelGone(number))) }
            if case .qos(let count, let global) = request {
                channel.prefetch = (count, global)
                updateWakeThreshold()
            }
            if channel.openSent {
                sendRPC(request, on: channel, completion: recording(request, completion))
            } else {
                channel.deferred.append((request, recording(request, completion)))
            }
        case .publish(let number, let publication):
            enqueue(CollectionOfOne(publication), on: number)
        case .publishBatch(let number, let publications):
            enqueue(publications, on: number)
        case .abandonPublishes(let number, let cancellation):
            guard let channel = channels[number] else { return }
            for publication in channel.confirmTracker.abandon(cancellation) { publication.complete(.failure(.cancelled)) }
            sendWaitingPublishes(on: channel)
        case .consume(let number, let registration, let completion):
            guard let channel = channels[number] else { return completion(.failure(Self.channelGone(number))) }
            channel.consumers[registration.tag] = registration
            if session != nil && channel.openSent {
                subscribe(registration, on: channel, completion: completion)
            } else {
                completion(.success(.done))  // subscribed when the channel is reopened
            }
        case .cancelConsumer(let number, let tag, let completion):
            guard let channel = channels[number], let registration = channel.consumers.removeValue(forKey: tag) else {
                completion?(.success(.done))
                return
            }
            if session != nil, channel.isOpen || !channel.pending.isEmpty {
                sendRPC(.cancel(tag: tag), on: channel) { [self] result in
                    registration.sink.finish()
                    if case .success = result { forgetDeletedAutoDeleteQueues([registration.queue]) }
                    completion?(result)
                }
            } else {
                registration.sink.finish()
                completion?(.success(.done))
            }
        case .close:
            break
        }
    }

    /// Queues publishes behind those already waiting on the channel and sends what the window allows.
    func enqueue<Publications: Collection<Publication>>(_ publications: Publications, on number: UInt16) {
        if let cancellation = publications.first?.cancellation, cancellation.isCancelled {
            for publication in publications { publication.complete(.failure(.cancelled)) }
            return
        }
        guard session != nil, let channel = channels[number] else {
            let error = session == nil ? AMQPError.notConnected : Self.channelGone(number)
            for publication in publications { publication.complete(.failure(error)) }
            return
        }
        channel.confirmTracker.waiting.append(contentsOf: publications)
        sendWaitingPublishes(on: channel)
    }

    static func channelGone(_ number: UInt16) -> AMQPError {
        .channelClosed(code: 504, text: "channel \(number) is closed")
    }

    func openChannel(_ number: UInt16, confirms: Bool, completion: @escaping RPCCompletion) {
        let channel = ChannelState(number: number, confirms: confirms, inbox: inbox)
        channels[number] = channel
        guard session != nil else { return completion(.success(.done)) }  // opened on reconnect
        // A connection lost meanwhile does not fail the open: the channel is reopened with the
        // connection. A broker refusal does.
        let finish: RPCCompletion = { [self] result in
            if case .failure(let error) = result, case .connectionLost = error {
                completion(.success(.done))
            } else if case .failure = result {
                channels[number] = nil
                completion(result)
            } else {
                completion(result)
            }
        }
        sendRPC(.channelOpen, on: channel, completion: confirms ? nil : finish)
        if confirms { sendRPC(.confirmSelect, on: channel, completion: finish) }
    }

    /// Records declarations that succeed and forgets deleted ones, for restoring after a reconnect.
    func recording(_ request: RPCRequest, _ completion: @escaping RPCCompletion) -> RPCCompletion {
        { [self] result in
            if case .success = result {
                switch request {
                case .exchangeDeclare(let spec, passive: false): topology.record(.exchange(spec))
                case .queueDeclare(let spec): topology.record(.queue(spec))
                case .queueBind(let binding): topology.record(.binding(binding))
                case .exchangeBind(let binding): topology.record(.exchangeBinding(binding))
                case .queueUnbind(let binding): topology.forgetBinding(binding)
                case .exchangeDelete(let name, _): topology.forgetExchange(name)
                case .queueDelete(let name, _, _): topology.forgetQueue(name)
                default: break
                }
            }
            completion(result)
        }
    }

    func subscribe(_ registration: ConsumerRegistration, on channel: ChannelState, completion: RPCCompletion?) {
        let request = RPCRequest.consume(queue: registration.queue, tag: registration.tag,
                                         exclusive: registration.exclusive, arguments: registration.arguments)
        let number = channel.number
        sendRPC(request, on: channel) { [self] result in
            switch result {
            case .success:
                completion?(result)
            case .failure(.connectionLost):
                completion?(.success(.done))  // subscribed again when the connection is back
            case .failure(let error):
                if channels[number]?.consumers.removeValue(forKey: registration.tag) != nil {
                    logger.error("consumer refused", metadata: ["queue": "\(registration.queue)", "error": "\(error)"])
                }
                registration.sink.finish()
                completion?(result)
            }
        }
    }
}
