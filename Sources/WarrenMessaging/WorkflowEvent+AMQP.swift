import Foundation
import RabbitMQ
import WarrenCore

extension WorkflowEvent {
    /// The message to publish: persistent, to `warren.workflows` through the default exchange,
    /// mandatory (a missing queue fails the publish instead of losing the event).
    public func outgoing() -> OutgoingMessage {
        let properties = BasicProperties(contentType: "application/json", deliveryMode: 2, messageID: runID, type: "warren.workflow-event")
        return OutgoingMessage(body: body, exchange: "", routingKey: WireNames.workflowsQueue, properties: properties, mandatory: true)
    }
}

extension TaskClient {
    /// Starts a workflow run: its start event is published to `warren.workflows` (confirmed),
    /// where the backend's coordinator takes it up and publishes its first steps. Publishing
    /// the same run id twice starts it once.
    public func startWorkflow(_ run: WorkflowRun) async throws {
        try await ensureShared()
        let outgoing = WorkflowEvent.start(run).outgoing()
        try await channel().publish(outgoing.body, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                                    properties: outgoing.properties, mandatory: outgoing.mandatory)
    }
}

extension WorkflowRun {
    /// A run of `workflow` started by `message` as a task would have been: the message's id,
    /// args, queue, schedule, trigger and trace.
    public init(fire message: TaskMessage, workflow: WorkflowDefinition, at milliseconds: Int64) {
        self.init(id: message.id, definition: workflow, args: message.args, queue: message.queue, startedMs: milliseconds)
        schedule = message.schedule
        scheduledFor = message.scheduledFor
        trigger = message.trigger
        traceparent = message.traceparent
    }
}
