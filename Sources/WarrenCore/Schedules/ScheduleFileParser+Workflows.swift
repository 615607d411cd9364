import Cron
import Yams

/// The `workflows:` section of a schedule file (SPEC §8): each workflow's steps, checked for
/// unknown steps in `after`, cycles, and placeholders that name no earlier step.
extension ScheduleFileParser {
    static let workflowKeys = ["steps", "on_failure", "queue"]
    static let stepKeys = ["task", "args", "after", "queue"]

    mutating func parseWorkflows(_ node: Node) {
        if node.isNull { return }
        guard let mapping = node.mapping else {
            reader.report(node, "workflows: expected a mapping from workflow names to workflows")
            return
        }
        for (nameNode, workflowNode) in mapping {
            guard let name = nameNode.scalar?.string, Names.isValidScheduleOrTaskName(name) else {
                reader.report(nameNode, "workflow name \(reader.describe(nameNode)): use letters, digits, \".\", \"_\", \"-\" and \":\" (at most 200, starting with a letter or digit)")
                continue
            }
            if let workflow = parseWorkflow(name: name, nameNode: nameNode, node: workflowNode) { workflows.append(workflow) }
        }
    }

    private mutating func parseWorkflow(name: String, nameNode: Node, node: Node) -> WorkflowDefinition? {
        guard let mapping = node.mapping else {
            reader.report(node, "workflow \"\(name)\": expected a mapping with steps")
            return nil
        }
        let errorsBefore = reader.errors.count
        let entries = reader.uniqueEntries(mapping, allowed: Self.workflowKeys, context: "in workflow \"\(name)\"")
        var policy = WorkflowFailurePolicy.stop
        if let node = entries["on_failure"], let chosen = reader.choice(node, "on_failure", WorkflowFailurePolicy.self) { policy = chosen }
        var queue: String?
        if let node = entries["queue"] { queue = self.queue(node) }
        guard let stepsNode = entries["steps"], let stepsMapping = stepsNode.mapping, stepsMapping.count > 0 else {
            reader.report(entries["steps"] ?? nameNode, "workflow \"\(name)\" needs steps: a mapping from step names to steps")
            return nil
        }
        var steps: [WorkflowStep] = []
        var nodes: [String: (name: Node, after: [(String, Node)], args: Node?)] = [:]
        for (stepNameNode, stepNode) in stepsMapping {
            guard let stepName = stepNameNode.scalar?.string, Names.isValidScheduleOrTaskName(stepName) else {
                reader.report(stepNameNode, "step name \(reader.describe(stepNameNode)): use letters, digits, \".\", \"_\", \"-\" and \":\"")
                continue
            }
            guard let stepMapping = stepNode.mapping else {
                reader.report(stepNode, "step \"\(stepName)\": expected a mapping with task, and optionally args, after and queue")
                continue
            }
            let stepEntries = reader.uniqueEntries(stepMapping, allowed: Self.stepKeys, context: "in step \"\(stepName)\"")
            var task: String?
            if let taskNode = stepEntries["task"] {
                if let text = reader.text(taskNode, "task", example: "etl.extract") {
                    if Names.isValidScheduleOrTaskName(text) { task = text } else { reader.report(taskNode, "task \"\(text)\": use letters, digits, \".\", \"_\", \"-\" and \":\"") }
                }
            } else {
                reader.report(stepNameNode, "step \"\(stepName)\" needs a task (a name from the workers' task catalog)")
            }
            var after: [(String, Node)] = []
            if let afterNode = stepEntries["after"] {
                let elements = afterNode.sequence.map { Array($0) } ?? [afterNode]
                for element in elements {
                    if let text = reader.text(element, "after", example: "[extract]") { after.append((text, element)) }
                }
            }
            var args = JSONValue.object([:])
            if let node = stepEntries["args"], let value = reader.json(node, path: "args") { args = value }
            var stepQueue: String?
            if let node = stepEntries["queue"] { stepQueue = self.queue(node) }
            nodes[stepName] = (stepNameNode, after, stepEntries["args"])
            if let task {
                steps.append(WorkflowStep(name: stepName, task: task, args: args, after: after.map(\.0), queue: stepQueue))
            }
        }
        guard reader.errors.count == errorsBefore else { return nil }
        // Unknown steps first: a cycle or a placeholder is judged on known steps only.
        let known = Set(steps.map(\.name))
        for step in steps {
            for (other, node) in nodes[step.name]!.after where !known.contains(other) {
                let hint = Suggestion.closest(to: other, among: Array(known)).map { " (did you mean \"\($0)\"?)" } ?? ""
                reader.report(node, "step \"\(step.name)\": after names \"\(other)\", which is not a step of workflow \"\(name)\"\(hint)")
            }
            if step.after.contains(step.name) { reader.report(nodes[step.name]!.name, "step \"\(step.name)\" cannot come after itself") }
        }
        guard reader.errors.count == errorsBefore else { return nil }
        let definition = WorkflowDefinition(name: name, steps: steps, onFailure: policy, queue: queue,
                                            location: SourceLocation(file: file, line: nameNode.mark?.line ?? 1, column: nameNode.mark?.column ?? 1))
        if definition.topologicalOrder == nil {
            let cycle = Self.cycle(in: definition)
            reader.report(nodes[cycle[0]]!.name, "workflow \"\(name)\": steps \(cycle.map { "\"\($0)\"" }.joined(separator: " → ")) → \"\(cycle[0])\" form a cycle (each comes after the next)")
            return nil
        }
        for step in steps {
            let before = definition.ancestors(of: step.name)
            for (path, text, at) in Self.strings(in: nodes[step.name]!.args, path: "args") {
                for placeholder in WorkflowArgs.placeholders(in: text) {
                    switch placeholder.reference {
                    case .failure(let error):
                        reader.report(at, "step \"\(step.name)\" \(path): \(error)")
                    case .success(.stepResult(let other, _)), .success(.stepOutput(let other)):
                        if !before.contains(other) {
                            let why = known.contains(other) ? "which does not come before it (add it to after:)" : "which is not a step of workflow \"\(name)\""
                            reader.report(at, "step \"\(step.name)\" \(path): {\(placeholder.text)} names step \"\(other)\", \(why)")
                        }
                    case .success:
                        break
                    }
                }
            }
        }
        guard reader.errors.count == errorsBefore else { return nil }
        return definition
    }

    private mutating func queue(_ node: Node) -> String? {
        guard let queue = reader.text(node, "queue", example: "etl") else { return nil }
        if let problem = Names.queueNameProblem(queue) {
            reader.report(node, "queue: \(problem)")
            return nil
        }
        return queue
    }

    /// Every text scalar under `node`, with its path and node.
    static func strings(in node: Node?, path: String) -> [(path: String, text: String, node: Node)] {
        switch node {
        case .scalar(let scalar)?:
            if case .text(let text) = ScalarValue(scalar) { return [(path, text, node!)] }
            return []
        case .sequence(let sequence)?:
            return sequence.enumerated().flatMap { strings(in: $1, path: "\(path)[\($0)]") }
        case .mapping(let mapping)?:
            return mapping.flatMap { key, value in strings(in: value, path: "\(path).\(key.scalar?.string ?? "?")") }
        default:
            return []
        }
    }

    /// Step names along one cycle of `definition`, each after the next.
    static func cycle(in definition: WorkflowDefinition) -> [String] {
        var visiting: [String] = []
        var done: Set<String> = []
        func visit(_ name: String) -> [String]? {
            if let index = visiting.firstIndex(of: name) { return Array(visiting[index...]) }
            if done.contains(name) { return nil }
            visiting.append(name)
            for next in definition.step(named: name)?.after ?? [] {
                if let cycle = visit(next) { return cycle }
            }
            visiting.removeLast()
            done.insert(name)
            return nil
        }
        for step in definition.steps {
            if let cycle = visit(step.name) { return cycle }
        }
        return definition.steps.map(\.name)
    }
}
