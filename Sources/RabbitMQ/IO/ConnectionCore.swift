import CRabbitMQ
import CRabbitMQShim
import Foundation
import Logging
import Synchronization

/// The engine of a connection. One dedicated I/O thread owns the librabbitmq connection state
/// (which is not thread-safe) and everything in this class marked "I/O thread". Callers talk to
/// it only through `inbox`.
///
/// Each turn of the loop: take posted commands and settlements, read every frame the socket
/// has, hand deliveries out in batches, send coalesced acks, then `poll` the socket and the
/// inbox's eventfd. Reading with a zero timeout lets librabbitmq send heartbeats and notice a
/// silent broker, and the poll timeout never exceeds a quarter of the heartbeat interval, so
/// heartbeats flow whatever the callers are doing.
final class ConnectionCore: @unchecked Sendable {
    /// Channel used to re-declare recorded topology after a reconnection; callers get 2 and up.
    static let topologyChannel: UInt16 = 1

    struct Status {
        var endpoint: Endpoint?
        var serverInfo: ServerInfo?
        var connected = false
        var blocked = false
        var reconnects = 0
    }

    let configuration: ConnectionConfiguration
    let inbox = Inbox()
    /// Runs tasks that prefer it on the I/O thread, between turns.
    let executor: ConnectionExecutor
    let status = Mutex(Status())
    let events: AsyncStream<ConnectionEvent>
    private let eventContinuation: AsyncStream<ConnectionEvent>.Continuation
    private var logger: Logger

    // I/O thread state. Only the I/O thread touches these, so the dynamic exclusivity checks
    // Swift would run on every access (a measurable share of per-message CPU) are turned off.
    @exclusivity(unchecked) private var session: Session?
    @exclusivity(unchecked) private var encoder: MethodEncoder?
    private let arena = CArena()
    @exclusivity(unchecked) private var channels: [UInt16: ChannelState] = [:] {
        didSet { recentChannel = nil }
    }
    @exclusivity(unchecked) private var topology = RecordedTopology()
    @exclusivity(unchecked) private var blocked = false
    @exclusivity(unchecked) private var reconnectAttempt = 0
    @exclusivity(unchecked) private var reconnectAt: ContinuousClock.Instant?
    @exclusivity(unchecked) private var nextEndpoint = 0
    @exclusivity(unchecked) private var lastSend = ContinuousClock.now
    @exclusivity(unchecked) private var sentThisTurn = false
    @exclusivity(unchecked) private var exitRequested = false
    @exclusivity(unchecked) private var dead = false
    @exclusivity(unchecked) private var hasConnectedBefore = false
    @exclusivity(unchecked) private var closeCompletions: [@Sendable () -> Void] = []
    @exclusivity(unchecked) private var commandBuffer: [Command] = []
    @exclusivity(unchecked) private var settlementBuffer: [Settlement] = []
    @exclusivity(unchecked) private var jobBuffer: [UnownedJob] = []
    @exclusivity(unchecked) private var touchedChannels: [ChannelState] = []
    @exclusivity(unchecked) private var interner = StringInterner()
    /// Deliveries read but not yet handed out, and since when.
    @exclusivity(unchecked) private var pendingDeliveries = 0
    @exclusivity(unchecked) private var pendingSince: ContinuousClock.Instant?
    /// A batch this large is handed out at once (set from the prefetch).
    @exclusivity(unchecked) private var handOutBatch = 256
    /// The longest a smaller batch waits for more deliveries to join it. Each hand-out wakes the
    /// consumer's task, which costs far more than a delivery; under load this makes batches
    /// larger, and when idle it adds at most this much latency.
    static let deliveryLinger: Duration = .microseconds(500)

    init(configuration: ConnectionConfiguration) {
        self.configuration = configuration
        self.logger = configuration.logger
        self.executor = ConnectionExecutor(inbox: inbox)
        (events, eventContinuation) = AsyncStream.makeStream(of: ConnectionEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// Starts the I/O thread; `firstConnect` reports the outcome of the first connection attempt
    /// (every endpoint tried once). On failure the thread ends.
    func start(firstConnect: @escaping @Sendable (Result<Void, AMQPError>) -> Void) {
        let thread = Thread { [self] in
            // Shown by top -H, perf and gdb: "amqp-io" plus the start of the connection name.
            warren_set_current_thread_name("amqp-io-\(configuration.connectionName)")
            self.run(firstConnect: firstConnect)
        }
        thread.start()
    }

    // MARK: - Loop

    private func run(firstConnect: @Sendable (Result<Void, AMQPError>) -> Void) {
        do {
            try connectToAnyEndpoint()
            firstConnect(.success(()))
        } catch {
            firstConnect(.failure(error))
            shutdown()
            return
        }
        while true {
            inbox.take(commands: &commandBuffer, settlements: &settlementBuffer)
            // Settlements first: an ack given before a channel.close in the same turn must reach
            // the broker before the close does.
            for settlement in settlementBuffer { handle(settlement) }
            settlementBuffer.removeAll(keepingCapacity: true)
            for command in commandBuffer { handle(command) }
            commandBuffer.removeAll(keepingCapacity: true)
            if exitRequested {
                shutdown()
                return
            }
            flushWrites()

            var framesRead = 0
            // Read once per turn: the clock is a measurable share of per-message CPU.
            let now: ContinuousClock.Instant
            if session != nil {
                framesRead = readFrames()
                now = .now
                if pendingDeliveries > 0 && pendingSince == nil { pendingSince = now }
                if pendingDeliveries >= handOutBatch
                    || pendingDeliveries > 0 && now - pendingSince! >= Self.deliveryLinger {
                    handOutDeliveries()
                }
                flushAcks(now: now)
                expireRPCs(now: now)
                sendHeartbeatIfIdle(now: now)
                flushWrites()
            } else {
                now = .now
                if let at = reconnectAt, now >= at {
                    attemptReconnect()
                    continue
                }
            }
            if runJobs() || framesRead > 0 { continue }
            guard let lazyLimit = inbox.prepareToSleep() else {
                // Not polling this turn: the socket may have filled meanwhile, so ask the library
                // next turn, or a caller posting commands every turn would starve reading.
                socketMayHaveData = true
                continue
            }
            sleep(upTo: lazyLimit, now: now)
        }
    }

    /// Runs the jobs posted for the connection's executor, those posted while handing out
    /// deliveries in this turn included. True if any ran: what they settled or sent is handled
    /// in the next turn, before sleeping.
    private func runJobs() -> Bool {
        inbox.take(jobs: &jobBuffer)
        guard !jobBuffer.isEmpty else { return false }
        let unowned = executor.asUnownedTaskExecutor()
        for job in jobBuffer { job.runSynchronously(on: unowned) }
        jobBuffer.removeAll(keepingCapacity: true)
        return true
    }

    private func sleep(upTo lazyLimit: Int32, now: ContinuousClock.Instant) {
        var timeout = lazyLimit
        func limit(_ milliseconds: Int64) {
            let value = Int32(clamping: max(0, milliseconds))
            timeout = timeout < 0 ? value : min(timeout, value)
        }
        if let session, session.heartbeatSeconds > 0 {
            limit(Int64(session.heartbeatSeconds) * 250)
        }
        if let deadline = nearestRPCDeadline() { limit((deadline - now).milliseconds + 1) }
        var precise: Duration?
        if pendingDeliveries > 0, let since = pendingSince {
            precise = max(.zero, since + Self.deliveryLinger - now)
        }
        if let deadline = nearestStrayAckDeadline() {
            precise = min(precise ?? .seconds(3600), max(.zero, deadline - now))
        }
        if session == nil, let at = reconnectAt { limit((at - now).milliseconds + 1) }

        var fds = [pollfd(fd: inbox.eventFD, events: Int16(POLLIN), revents: 0)]
        if let session { fds.append(pollfd(fd: session.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        var nanoseconds = timeout < 0 ? -1 : Int64(timeout) * 1_000_000
        if let precise, nanoseconds < 0 || precise < .nanoseconds(nanoseconds) {
            nanoseconds = precise.components.seconds * 1_000_000_000 + precise.components.attoseconds / 1_000_000_000
        }
        let ready = warren_poll_nanoseconds(&fds, UInt(fds.count), nanoseconds)
        // A timeout lets librabbitmq check heartbeats; an error is read as data.
        socketMayHaveData = ready <= 0 || fds.count > 1 && fds[1].revents != 0
        inbox.awake(eventFDReadable: fds[0].revents & Int16(POLLIN) != 0)
    }

    // MARK: - Connecting

    private func connectToAnyEndpoint() throws(AMQPError) {
        let endpoints = configuration.endpoints
        var lastError = AMQPError.connectionFailed(endpoint: "(none)", reason: "no endpoint configured")
        for offset in 0..<endpoints.count {
            let index = (nextEndpoint + offset) % endpoints.count
            do {
                let session = try Session.open(endpoints[index], configuration: configuration, arena: arena)
                nextEndpoint = (index + 1) % endpoints.count
                established(session)
                return
            } catch {
                logger.warning("cannot connect", metadata: ["endpoint": "\(endpoints[index])", "error": "\(error)"])
                lastError = error
            }
        }
        nextEndpoint = (nextEndpoint + 1) % max(endpoints.count, 1)
        throw lastError
    }

    private func attemptReconnect() {
        do {
            try connectToAnyEndpoint()
            reconnectAttempt = 0
            reconnectAt = nil
        } catch {
            let delay = configuration.reconnect.delay(attempt: reconnectAttempt)
            reconnectAttempt += 1
            reconnectAt = ContinuousClock.now + delay
        }
    }

    private func established(_ session: Session) {
        self.session = session
        self.encoder = MethodEncoder(session: session, arena: arena)
        socketMayHaveData = true
        lastSend = .now
        status.withLock { status in
            status.endpoint = session.endpoint
            status.serverInfo = session.serverInfo
            status.connected = true
            status.blocked = false
            if hasConnectedBefore { status.reconnects += 1 }
        }
        hasConnectedBefore = true
        logger.info("connected", metadata: ["endpoint": "\(session.endpoint)", "heartbeat": "\(session.heartbeatSeconds)s"])
        eventContinuation.yield(.connected(session.endpoint))
        restoreTopology()
    }

    /// Re-declares recorded topology on the topology channel, then reopens every caller channel
    /// with its consumers, so queues exist before consumers subscribe to them.
    private func restoreTopology() {
        // Only channels that exist now need reopening; ones opened later open themselves.
        let toReopen = channels.keys.filter { $0 != Self.topologyChannel }.sorted()
        let channel = ChannelState(number: Self.topologyChannel, confirms: false, inbox: inbox)
        channels[Self.topologyChannel] = channel
        let declarations = topology.declarations
        let restoreChannels: RPCCompletion = { [self] _ in restoreCallerChannels(toReopen) }
        sendRPC(.channelOpen, on: channel, completion: declarations.isEmpty ? restoreChannels : nil)
        for (index, declaration) in declarations.enumerated() {
            let isLast = index == declarations.count - 1
            sendRPC(RecordedTopology.request(for: declaration), on: channel) { [self] result in
                if case .failure(let error) = result {
                    logger.error("cannot restore topology", metadata: ["declaration": "\(declaration)", "error": "\(error)"])
                }
                if isLast { restoreCallerChannels(toReopen) }
            }
        }
    }

    private func restoreCallerChannels(_ numbers: [UInt16]) {
        guard session != nil else { return }
        for number in numbers {
            if let channel = channels[number], !channel.openSent { reopen(channel) }
        }
    }

    /// Opens a channel on the broker again with its confirm mode, prefetch and consumers, then
    /// sends the publishes that waited for it.
    private func reopen(_ channel: ChannelState) {
        sendRPC(.channelOpen, on: channel, completion: nil)
        if channel.confirms { sendRPC(.confirmSelect, on: channel, completion: nil) }
        if let prefetch = channel.prefetch {
            sendRPC(.qos(prefetchCount: prefetch.count, global: prefetch.global), on: channel, completion: nil)
        }
        for registration in channel.consumers.values.sorted(by: { $0.tag < $1.tag }) {
            subscribe(registration, on: channel, completion: nil)
        }
        let deferred = channel.deferred
        channel.deferred.removeAll()
        for (request, completion) in deferred { sendRPC(request, on: channel, completion: completion) }
        sendWaitingPublishes(on: channel)
    }

    // MARK: - Losing the connection

    /// Tears down the session after a failure; everything in flight fails with `connectionLost`.
    private func connectionFailed(_ error: AMQPError) {
        guard let session else { return }
        logger.warning("connection lost", metadata: ["endpoint": "\(session.endpoint)", "error": "\(error)"])
        self.session = nil
        self.encoder = nil
        session.destroy()
        blocked = false
        pendingDeliveries = 0
        pendingSince = nil
        status.withLock {
            $0.connected = false
            $0.blocked = false
        }
        eventContinuation.yield(.disconnected(error))
        let lost = AMQPError.connectionLost(reason: error.description)
        channels[Self.topologyChannel] = nil
        for number in channels.keys.sorted() {
            guard let channel = channels[number] else { continue }
            failEverything(on: channel, with: lost)
            channel.resetForReopen(inbox: inbox)
            if channel.closingByClient {
                forget(channel)
            }
        }
        if configuration.reconnect.enabled && !exitRequested {
            reconnectAt = ContinuousClock.now + configuration.reconnect.delay(attempt: reconnectAttempt)
            reconnectAttempt += 1
        } else {
            dead = true
            for channel in channels.values { forget(channel) }
        }
    }

    private func failEverything(on channel: ChannelState, with error: AMQPError) {
        let pending = channel.pending
        channel.pending.removeAll()
        for rpc in pending { rpc.completion?(.failure(error)) }
        for publication in channel.confirmTracker.takeUnconfirmed() { publication.complete(.failure(error)) }
        let waiting = channel.confirmTracker.waiting
        channel.confirmTracker.waiting.removeAll()
        for publication in waiting { publication.complete(.failure(error)) }
        let deferred = channel.deferred
        channel.deferred.removeAll()
        for (_, completion) in deferred { completion(.failure(error)) }
    }

    /// Removes a channel for good: its consumers end, its deliveries become stale.
    private func forget(_ channel: ChannelState) {
        channel.acknowledger.markStale()
        for registration in channel.consumers.values { registration.sink.finish() }
        channel.consumers.removeAll()
        failEverything(on: channel, with: .closedByClient)
        channels[channel.number] = nil
    }

    private func shutdown() {
        // Settlements taken in the same turn as the close request must still reach the broker,
        // or deliveries already handled would return to their queues.
        flushAcks(now: .now, force: true)
        flushWrites()
        if let session {
            session.close()
            self.session = nil
            self.encoder = nil
        }
        let (commands, jobs) = inbox.close()
        for command in commands { fail(command, with: .closedByClient) }
        for job in jobs { executor.forward(job) }
        for channel in channels.values { forget(channel) }
        status.withLock { $0.connected = false }
        eventContinuation.finish()
        for completion in closeCompletions { completion() }
        closeCompletions.removeAll()
    }

    private func fail(_ command: Command, with error: AMQPError) {
        switch command {
        case .openChannel(_, _, let completion), .rpc(_, _, let completion), .consume(_, _, let completion):
            completion(.failure(error))
        case .publish(_, let publication):
            publication.complete(.failure(error))
        case .publishBatch(_, let publications):
            for publication in publications { publication.complete(.failure(error)) }
        case .cancelConsumer(_, _, let completion):
            completion?(.failure(error))
        case .close(let completion):
            completion()
        }
    }

    // MARK: - Commands

    private func handle(_ command: Command) {
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
                sendRPC(.cancel(tag: tag), on: channel) { result in
                    registration.sink.finish()
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
    private func enqueue<Publications: Collection<Publication>>(_ publications: Publications, on number: UInt16) {
        guard session != nil, let channel = channels[number] else {
            let error = session == nil ? AMQPError.notConnected : Self.channelGone(number)
            for publication in publications { publication.complete(.failure(error)) }
            return
        }
        channel.confirmTracker.waiting.append(contentsOf: publications)
        sendWaitingPublishes(on: channel)
    }

    private static func channelGone(_ number: UInt16) -> AMQPError {
        .channelClosed(code: 504, text: "channel \(number) is closed")
    }

    private func openChannel(_ number: UInt16, confirms: Bool, completion: @escaping RPCCompletion) {
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
    private func recording(_ request: RPCRequest, _ completion: @escaping RPCCompletion) -> RPCCompletion {
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

    private func subscribe(_ registration: ConsumerRegistration, on channel: ChannelState, completion: RPCCompletion?) {
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

    // MARK: - Sending

    private func sendRPC(_ request: RPCRequest, on channel: ChannelState, completion: RPCCompletion?) {
        guard let encoder else {
            completion?(.failure(.notConnected))
            return
        }
        switch request {
        case .channelClose:
            // Settlements waiting to be flushed go first: once the broker has answered the close,
            // any frame on this channel number is a connection error (504 CHANNEL_ERROR).
            for frame in channel.ackTracker.flush(now: .now, force: true) {
                if encoder.send(frame, on: channel.number) != AMQP_STATUS_OK.rawValue { break }
            }
            channel.closingByClient = true
        case .channelOpen: channel.openSent = true
        default: break
        }
        let status = encoder.send(request, on: channel.number)
        sentThisTurn = true
        channel.pending.append(.init(request: request, deadline: .now + configuration.operationTimeout, completion: completion))
        if status != AMQP_STATUS_OK.rawValue {
            connectionFailed(Self.libraryError(status))
        }
    }

    private func sendWaitingPublishes(on channel: ChannelState) {
        guard let encoder, !blocked, channel.openSent else { return }
        let window = configuration.publishWindow
        while !channel.confirmTracker.waiting.isEmpty {
            if channel.confirms && channel.confirmTracker.inFlight >= window { return }
            let publication = channel.confirmTracker.waiting.removeFirst()
            let status = encoder.publish(publication, on: channel.number)
            sentThisTurn = true
            if status != AMQP_STATUS_OK.rawValue {
                let error = Self.libraryError(status)
                publication.complete(.failure(.connectionLost(reason: error.description)))
                connectionFailed(error)
                return
            }
            if channel.confirms {
                channel.confirmTracker.sent(publication)
            } else {
                publication.complete(.success(()))
            }
        }
    }

    private func handle(_ settlement: Settlement) {
        guard let encoder, let channel = channel(settlement.acknowledger.channel),
              channel.acknowledger === settlement.acknowledger else { return }  // stale: broker requeued it
        guard !channel.closingByClient else { return }  // the close returns its deliveries to their queues
        if let frame = channel.ackTracker.settle(settlement.deliveryTag, settlement.kind) {
            let status = encoder.send(frame, on: channel.number)
            sentThisTurn = true
            if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
        }
        markForAckFlush(channel)
    }

    /// Lazy acks must wake the I/O thread before a consumer's prefetch window runs dry.
    private func updateWakeThreshold() {
        let windows = channels.values.compactMap { $0.prefetch.map { Int($0.count) } }.filter { $0 > 0 }
        inbox.setWakeThreshold(prefetch: windows.min())
        // Never hold back a batch the prefetch window cannot grow.
        handOutBatch = windows.min().map { max(1, min(256, $0 / 2)) } ?? 256
    }

    private func markForAckFlush(_ channel: ChannelState) {
        if !channel.needsAckFlush {
            channel.needsAckFlush = true
            touchedChannels.append(channel)
        }
    }

    /// Sends the acks due (`force`: all, stray ones included) on every channel settled since.
    private func flushAcks(now: ContinuousClock.Instant, force: Bool = false) {
        guard !touchedChannels.isEmpty else { return }
        let touched = touchedChannels
        touchedChannels.removeAll(keepingCapacity: true)
        for channel in touched {
            channel.needsAckFlush = false
            guard let encoder, channels[channel.number] === channel, !channel.closingByClient else { continue }
            for frame in channel.ackTracker.flush(now: now, force: force) {
                let status = encoder.send(frame, on: channel.number)
                sentThisTurn = true
                if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
            }
            // Stray acks held back: flush again on a later turn, by their deadline at the latest.
            if channel.ackTracker.strayDeadline != nil { markForAckFlush(channel) }
        }
    }

    /// When the earliest held-back stray ack is due.
    private func nearestStrayAckDeadline() -> ContinuousClock.Instant? {
        touchedChannels.lazy.compactMap(\.ackTracker.strayDeadline).min()
    }

    /// Writes the publishes coalesced during this turn.
    private func flushWrites() {
        guard let encoder else { return }
        let status = encoder.flush()
        if status != AMQP_STATUS_OK.rawValue { connectionFailed(Self.libraryError(status)) }
    }

    private func sendHeartbeatIfIdle(now: ContinuousClock.Instant) {
        if sentThisTurn {
            lastSend = now
            sentThisTurn = false
            return
        }
        guard let session, let encoder, session.heartbeatSeconds > 0 else { return }
        // librabbitmq sends heartbeats from its read path; this covers turns where the socket
        // always had data buffered and the library never reached that path.
        if now - lastSend >= .milliseconds(session.heartbeatSeconds * 500) {
            let status = encoder.sendHeartbeat()
            lastSend = now
            if status != AMQP_STATUS_OK.rawValue { connectionFailed(Self.libraryError(status)) }
        }
    }

    private func nearestRPCDeadline() -> ContinuousClock.Instant? {
        blocked ? nil : channels.values.compactMap { $0.pending.first?.deadline }.min()
    }

    private func expireRPCs(now: ContinuousClock.Instant) {
        // A blocked connection is not read by the broker until it unblocks: nothing can be
        // answered meanwhile, and giving up would only trade the block for a reconnect.
        guard !blocked else { return }
        for channel in channels.values {
            guard let first = channel.pending.first, first.deadline <= now else { continue }
            channel.pending.removeFirst()
            let error = AMQPError.timeout(operation: first.request.name)
            first.completion?(.failure(error))
            // The reply may still come and would be matched to the wrong request: start over.
            connectionFailed(error)
            return
        }
    }

    // MARK: - Receiving

    /// False after a plain TCP socket was drained until `poll` reports it readable again.
    @exclusivity(unchecked) private var socketMayHaveData = true

    private func readFrames() -> Int {
        guard let session else { return 0 }
        // On plain TCP, once librabbitmq's buffer is empty the socket is left to `poll`: asking
        // the library again would cost a failing recv and a poll per turn.
        let leaveDrainedSocketToPoll = session.usesPlainSocket
        func bufferEmpty() -> Bool {
            amqp_data_in_buffer(session.state) == 0 && amqp_frames_enqueued(session.state) == 0
        }
        if leaveDrainedSocketToPoll {
            guard socketMayHaveData || !bufferEmpty() else { return 0 }
            socketMayHaveData = false
        }
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        var count = 0
        while count < 20_000 {
            let empty = bufferEmpty()
            if leaveDrainedSocketToPoll && count > 0 && empty { break }
            // librabbitmq 0.11 reads the clock for a zero timeout, three times per message; with
            // none it does not, and with bytes buffered it returns a frame without waiting, unless
            // only part of one is there (then it waits for the rest, which is already on its way).
            let status = empty
                ? amqp_simple_wait_frame_noblock(session.state, &frame, &immediately)
                : amqp_simple_wait_frame_noblock(session.state, &frame, nil)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionFailed(Self.libraryError(status))
                return count
            }
            count += 1
            handle(frame)
            guard self.session === session else { return count }
        }
        amqp_maybe_release_buffers(session.state)
        return count
    }

    /// The channel of the previous frame or settlement: nearly always the next one's too.
    @exclusivity(unchecked) private var recentChannel: ChannelState?

    private func channel(_ number: UInt16) -> ChannelState? {
        if let recent = recentChannel, recent.number == number { return recent }
        recentChannel = channels[number]
        return recentChannel
    }

    private func handle(_ frame: amqp_frame_t) {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER:
            guard let channel = channel(frame.channel), channel.incomingMethod != nil else { return }
            // Copied now: the frame's memory is released at the end of this turn, and the body
            // may come in a later one.
            channel.incomingPropertyBytes.removeAll(keepingCapacity: true)
            if let decoded = frame.payload.properties.decoded {
                channel.incomingProperties = RawProperties(
                    decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee,
                    appendingTo: &channel.incomingPropertyBytes)
            } else {
                channel.incomingProperties = RawProperties()
            }
            channel.incomingBodySize = Int(frame.payload.properties.body_size)
            channel.incomingHeaderSeen = true
            channel.incomingBody.removeAll(keepingCapacity: true)
            if channel.incomingBodySize == 0 { completeContent(on: channel, singleFrame: nil) }
        case AMQP_FRAME_BODY:
            guard let channel = channel(frame.channel), channel.incomingHeaderSeen else { return }
            let fragment = UnsafeRawBufferPointer(start: frame.payload.body_fragment.bytes, count: frame.payload.body_fragment.len)
            if channel.incomingBody.isEmpty && fragment.count == channel.incomingBodySize {
                completeContent(on: channel, singleFrame: fragment)  // the usual case: one body frame
            } else {
                channel.incomingBody.append(contentsOf: fragment)
                if channel.incomingBody.count >= channel.incomingBodySize { completeContent(on: channel, singleFrame: nil) }
            }
        default:
            break
        }
    }

    /// A message is complete: file a delivery into its consumer's batch, or a return against
    /// its publish. The body is `singleFrame` when it came in one frame, else the channel's
    /// scratch buffer.
    private func completeContent(on channel: ChannelState, singleFrame: UnsafeRawBufferPointer?) {
        guard let method = channel.incomingMethod.take() else { return }
        channel.incomingHeaderSeen = false
        let properties = channel.incomingProperties
        switch method {
        case .deliver(let consumerTag, let deliveryTag, let redelivered, let exchange, let routingKey):
            channel.ackTracker.delivered(deliveryTag)
            guard let sink = channel.sink(forConsumer: consumerTag) else {
                // Arrived after this client cancelled the consumer: give it back to the queue.
                if let frame = channel.ackTracker.settle(deliveryTag, .reject(requeue: true)), let encoder {
                    _ = encoder.send(frame, on: channel.number)
                    sentThisTurn = true
                }
                markForAckFlush(channel)
                return
            }
            let storage: DeliveryBatchStorage
            if let existing = channel.batches.first(where: { $0.sink === sink }) {
                storage = existing.storage
            } else {
                storage = DeliveryBatchStorage(acknowledger: channel.acknowledger, consumerTag: consumerTag)
                // Sized like the channel's previous batch: growing by doubling copied every
                // batch's bytes several times.
                storage.bytes.reserveCapacity(channel.previousBatchSize.bytes)
                storage.records.reserveCapacity(channel.previousBatchSize.records)
                channel.batches.append((sink, storage))
            }
            let propertiesStart = storage.bytes.count
            storage.bytes.append(contentsOf: channel.incomingPropertyBytes)
            let bodyStart = storage.bytes.count
            if let singleFrame {
                storage.bytes.append(contentsOf: singleFrame)
            } else {
                storage.bytes.append(contentsOf: channel.incomingBody)
            }
            storage.records.append(.init(propertiesStart: propertiesStart, bodyStart: bodyStart,
                                         bodyCount: storage.bytes.count - bodyStart, deliveryTag: deliveryTag,
                                         redelivered: redelivered, exchange: exchange, routingKey: routingKey,
                                         properties: properties))
            pendingDeliveries += 1  // pendingSince is set after the read
        case .return(let code, let text, let exchange, let routingKey):
            channel.confirmTracker.returned(
                exchange: exchange, routingKey: routingKey, messageID: returnedMessageID(properties, on: channel),
                error: .returned(code: code, text: text, exchange: exchange, routingKey: routingKey))
        }
    }

    private func returnedMessageID(_ properties: RawProperties, on channel: ChannelState) -> String? {
        channel.incomingPropertyBytes.withUnsafeBytes { properties.decode($0).messageID }
    }

    private func handOutDeliveries() {
        pendingDeliveries = 0
        pendingSince = nil
        for channel in channels.values where !channel.batches.isEmpty {
            let batches = channel.batches
            channel.batches.removeAll(keepingCapacity: true)
            for (sink, storage) in batches {
                channel.previousBatchSize = (storage.bytes.count, storage.records.count)
                sink.yield(DeliveryBatch(storage: storage))
            }
        }
    }

    private func handleMethod(_ method: amqp_method_t, channel number: UInt16) {
        let id = method.id
        let decoded = method.decoded
        if number == 0 {
            handleConnectionMethod(id, decoded)
            return
        }
        guard let channel = channel(number) else {
            logger.debug("method on unknown channel", metadata: ["channel": "\(number)", "method": "\(id)"])
            return
        }
        switch id {
        case AMQP_BASIC_DELIVER_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            channel.incomingMethod = .deliver(
                consumerTag: interner.string(m.consumer_tag), deliveryTag: m.delivery_tag, redelivered: m.redelivered != 0,
                exchange: interner.string(m.exchange), routingKey: interner.string(m.routing_key))
            channel.incomingHeaderSeen = false
        case AMQP_BASIC_RETURN_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            channel.incomingMethod = .return(
                code: m.reply_code, text: m.reply_text.string, exchange: m.exchange.string, routingKey: m.routing_key.string)
            channel.incomingHeaderSeen = false
        case AMQP_BASIC_ACK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(on: channel, tag: m.delivery_tag, multiple: m.multiple != 0, ack: true)
        case AMQP_BASIC_NACK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(on: channel, tag: m.delivery_tag, multiple: m.multiple != 0, ack: false)
        case AMQP_BASIC_CANCEL_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = m.consumer_tag.string
            if let registration = channel.consumers.removeValue(forKey: tag) {
                logger.warning("broker cancelled consumer (queue deleted or failed over)",
                               metadata: ["queue": "\(registration.queue)", "consumer": "\(tag)"])
                registration.sink.finish()
            }
        case AMQP_CHANNEL_CLOSE_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            channelClosedByBroker(channel, code: m.reply_code, text: m.reply_text.string)
        default:
            handleReply(id, decoded, on: channel)
        }
    }

    private func handleConnectionMethod(_ id: amqp_method_number_t, _ decoded: UnsafeMutableRawPointer?) {
        switch id {
        case AMQP_CONNECTION_CLOSE_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            _ = encoder?.sendConnectionCloseOK()
            connectionFailed(.connectionClosed(code: m.reply_code, text: m.reply_text.string))
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            blocked = true
            status.withLock { $0.blocked = true }
            logger.warning("broker blocked publishing", metadata: ["reason": "\(m.reason.string)"])
            eventContinuation.yield(.blocked(reason: m.reason.string))
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            blocked = false
            status.withLock { $0.blocked = false }
            logger.info("broker unblocked publishing")
            let renewed = ContinuousClock.now + configuration.operationTimeout
            for channel in channels.values {
                for index in channel.pending.indices { channel.pending[index].deadline = renewed }
            }
            eventContinuation.yield(.unblocked)
            for number in channels.keys.sorted() {
                if let channel = channels[number] { sendWaitingPublishes(on: channel) }
            }
        default:
            logger.debug("ignored connection method", metadata: ["method": "\(id)"])
        }
    }

    private func confirm(on channel: ChannelState, tag: UInt64, multiple: Bool, ack: Bool) {
        channel.confirmTracker.confirm(tag: tag, multiple: multiple, ack: ack)
        sendWaitingPublishes(on: channel)
    }

    private func handleReply(_ id: amqp_method_number_t, _ decoded: UnsafeMutableRawPointer?, on channel: ChannelState) {
        if id == AMQP_CHANNEL_CLOSE_OK_METHOD { settleAbandonedBeforeClose(on: channel) }
        guard let rpc = channel.pending.first, MethodEncoder.replyMethod(for: rpc.request) == id else {
            logger.error("unexpected method from broker", metadata: ["channel": "\(channel.number)", "method": "\(id)"])
            connectionFailed(.library(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue, text: "unexpected method \(id)"))
            return
        }
        channel.pending.removeFirst()
        var reply = RPCReply.done
        switch id {
        case AMQP_CHANNEL_OPEN_OK_METHOD:
            channel.isOpen = true
        case AMQP_CHANNEL_CLOSE_OK_METHOD:
            forget(channel)
        case AMQP_QUEUE_DECLARE_OK_METHOD:
            let m = decoded!.assumingMemoryBound(to: amqp_queue_declare_ok_t.self).pointee
            reply = .queue(QueueState(name: m.queue.string, messageCount: Int(m.message_count), consumerCount: Int(m.consumer_count)))
        case AMQP_QUEUE_PURGE_OK_METHOD:
            reply = .messageCount(Int(decoded!.assumingMemoryBound(to: amqp_queue_purge_ok_t.self).pointee.message_count))
        case AMQP_QUEUE_DELETE_OK_METHOD:
            reply = .messageCount(Int(decoded!.assumingMemoryBound(to: amqp_queue_delete_ok_t.self).pointee.message_count))
        default:
            break
        }
        rpc.completion?(.success(reply))
    }

    /// A broker closing a channel at the client's request may drop replies to operations sent
    /// just before the close (a `basic.cancel` in progress): those are settled here, a cancel as
    /// done (its consumer is gone with the channel), anything else as failed.
    private func settleAbandonedBeforeClose(on channel: ChannelState) {
        guard let closeIndex = channel.pending.firstIndex(where: { if case .channelClose = $0.request { true } else { false } }),
              closeIndex > 0 else { return }
        let abandoned = channel.pending.prefix(closeIndex)
        channel.pending.removeFirst(closeIndex)
        for rpc in abandoned {
            if case .cancel = rpc.request {
                rpc.completion?(.success(.done))
            } else {
                rpc.completion?(.failure(.closedByClient))
            }
        }
    }

    /// The broker closed a channel because an operation on it failed (403, 404, 405, 406, …).
    /// The operations in flight on it fail with that error; the channel is reopened at once with
    /// its consumers, so one bad operation does not take the caller's channel away.
    private func channelClosedByBroker(_ channel: ChannelState, code: UInt16, text: String) {
        if let encoder {
            let status = encoder.sendChannelCloseOK(on: channel.number)
            if status != AMQP_STATUS_OK.rawValue { return connectionFailed(Self.libraryError(status)) }
        }
        let error = AMQPError.channelClosed(code: code, text: text)
        let pending = channel.pending
        // An operation that caused the close gets the error and reports it as it sees fit (a
        // passive declare's 404 is an answer, not a fault); otherwise nobody else would.
        let level: Logger.Level = pending.contains { $0.completion != nil } ? .debug : .warning
        logger.log(level: level, "broker closed channel", metadata: ["channel": "\(channel.number)", "error": "\(error)"])
        channel.pending.removeAll()
        let unconfirmed = channel.confirmTracker.takeUnconfirmed()
        channel.resetForReopen(inbox: inbox)
        for rpc in pending { rpc.completion?(.failure(error)) }
        for publication in unconfirmed { publication.complete(.failure(error)) }
        if channel.closingByClient {
            forget(channel)
            return
        }
        guard session != nil, channels[channel.number] === channel else { return }
        reopen(channel)
    }

    static func libraryError(_ status: Int32) -> AMQPError {
        .library(status: status, text: String(cString: amqp_error_string2(status)))
    }
}
