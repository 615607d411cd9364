/// A task executor that runs jobs on a connection's I/O thread, between its turns.
///
/// A consumer whose work per delivery is short can run there (`withTaskExecutorPreference`)
/// and skip two thread wake-ups per batch: deliveries resume it without waking another thread,
/// and its acks are sent in the next turn without waking the I/O thread. While a job runs the
/// thread reads nothing and sends no heartbeats, so jobs must not block: await instead.
/// After the connection is closed, jobs run on the global concurrent executor.
public final class ConnectionExecutor: TaskExecutor {
    private let inbox: Inbox

    init(inbox: Inbox) {
        self.inbox = inbox
    }

    /// Queues a job for the I/O thread, waking it if it sleeps.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if !inbox.post(unowned) { forward(unowned) }
    }

    /// Hands a job to the global concurrent executor: the I/O thread has exited.
    func forward(_ job: UnownedJob) {
        globalConcurrentExecutor.enqueue(ExecutorJob(job))
    }
}
