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
///
/// The loop is here; the rest is in extensions: `+Connecting` (connecting, restoring topology,
/// losing the connection), `+Commands` (what callers post), `+Sending` and `+Receiving`.
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
    let eventContinuation: AsyncStream<ConnectionEvent>.Continuation
    var logger: Logger

    // I/O thread state. Only the I/O thread touches these, so the dynamic exclusivity checks
    // Swift would run on every access (a measurable share of per-message CPU) are turned off.
    @exclusivity(unchecked) var session: Session?
    @exclusivity(unchecked) var encoder: MethodEncoder?
    let arena = CArena()
    @exclusivity(unchecked) var channels: [UInt16: ChannelState] = [:] {
        didSet { recentChannel = nil }
    }
    @exclusivity(unchecked) var topology = RecordedTopology()
    @exclusivity(unchecked) var blocked = false
    @exclusivity(unchecked) var reconnectAttempt = 0
    @exclusivity(unchecked) var reconnectAt: ContinuousClock.Instant?
    @exclusivity(unchecked) var nextEndpoint = 0
    @exclusivity(unchecked) var lastSend = ContinuousClock.now
    @exclusivity(unchecked) var sentThisTurn = false
    @exclusivity(unchecked) var exitRequested = false
    @exclusivity(unchecked) var dead = false
    @exclusivity(unchecked) var hasConnectedBefore = false
    @exclusivity(unchecked) var closeCompletions: [@Sendable () -> Void] = []
    @exclusivity(unchecked) var commandBuffer: [Command] = []
    @exclusivity(unchecked) var settlementBuffer: [Settlement] = []
    @exclusivity(unchecked) var jobBuffer: [UnownedJob] = []
    @exclusivity(unchecked) var touchedChannels: [ChannelState] = []
    @exclusivity(unchecked) var interner = StringInterner()
    /// Deliveries read but not yet handed out, and since when.
    @exclusivity(unchecked) var pendingDeliveries = 0
    @exclusivity(unchecked) var pendingSince: ContinuousClock.Instant?
    /// A batch this large is handed out at once (set from the prefetch).
    @exclusivity(unchecked) var handOutBatch = 256
    /// The longest a smaller batch waits for more deliveries to join it. Each hand-out wakes the
    /// consumer's task, which costs far more than a delivery; under load this makes batches
    /// larger. A delivery after a quiet spell at least this long goes out at once: none was
    /// arriving to join it, and one awaited alone (a request and its response) would wait for
    /// nothing.
    static let deliveryLinger: Duration = .microseconds(500)
    /// When deliveries were last read.
    @exclusivity(unchecked) var lastDeliveryRead: ContinuousClock.Instant?
    /// False after a plain TCP socket was drained until `poll` reports it readable again.
    @exclusivity(unchecked) var socketMayHaveData = true
    /// The channel of the previous frame or settlement: nearly always the next one's too.
    @exclusivity(unchecked) var recentChannel: ChannelState?

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

    func run(firstConnect: @Sendable (Result<Void, AMQPError>) -> Void) {
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
                let pendingBefore = pendingDeliveries
                framesRead = readFrames()
                now = .now
                var afterQuiet = false
                if pendingDeliveries > pendingBefore {
                    afterQuiet = pendingBefore == 0 && (lastDeliveryRead.map { now - $0 >= Self.deliveryLinger } ?? true)
                    lastDeliveryRead = now
                }
                if pendingDeliveries > 0 && pendingSince == nil { pendingSince = now }
                if afterQuiet || pendingDeliveries >= handOutBatch
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
    func runJobs() -> Bool {
        inbox.take(jobs: &jobBuffer)
        guard !jobBuffer.isEmpty else { return false }
        let unowned = executor.asUnownedTaskExecutor()
        for job in jobBuffer { job.runSynchronously(on: unowned) }
        jobBuffer.removeAll(keepingCapacity: true)
        return true
    }

    func sleep(upTo lazyLimit: Int32, now: ContinuousClock.Instant) {
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
}
