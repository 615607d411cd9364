import Foundation
import Testing
import WarrenCore
import Yams

/// docs/openapi.yaml, and a check of JSON answers against its response schemas: types,
/// required properties, nullability, enums, arrays and references.
struct OpenAPIDocument {
    let root: [String: Any]

    static func load() throws -> OpenAPIDocument {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw ToolError(description: "openapi.yaml is not a mapping") }
        return OpenAPIDocument(root: root)
    }

    /// Every `METHOD PATH` the document describes, e.g. `get /api/results/{id}`.
    var operations: Set<String> {
        var result = Set<String>()
        for (path, item) in root["paths"] as? [String: Any] ?? [:] {
            for method in (item as? [String: Any] ?? [:]).keys { result.insert("\(method) \(path)") }
        }
        return result
    }

    /// Problems of `body` against the schema of `status` for `method path`; empty when it conforms.
    func problems(_ method: String, _ path: String, status: Int, body: JSONValue) -> [String] {
        guard let operation = ((root["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any] else {
            return ["\(method) \(path) is not in the document"]
        }
        guard var response = (operation["responses"] as? [String: Any])?["\(status)"] as? [String: Any] else {
            return ["\(method) \(path) does not document status \(status)"]
        }
        if let reference = response["$ref"] as? String { response = resolve(reference) }
        guard let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any] else {
            return ["\(method) \(path) \(status) has no JSON schema"]
        }
        return check(body, against: schema, at: "$")
    }

    private func resolve(_ reference: String) -> [String: Any] {
        var node: Any = root
        for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return node as? [String: Any] ?? [:]
    }

    private func check(_ value: JSONValue, against given: [String: Any], at location: String) -> [String] {
        let schema = (given["$ref"] as? String).map(resolve) ?? given
        if value == .null { return schema["nullable"] as? Bool == true || schema["type"] == nil ? [] : ["\(location) is null"] }
        if let all = schema["allOf"] as? [[String: Any]] { return all.flatMap { check(value, against: $0, at: location) } }
        if let allowed = schema["enum"] as? [String], case .string(let text) = value, !allowed.contains(text) {
            return ["\(location) = \(text) is not one of \(allowed)"]
        }
        switch (schema["type"] as? String, value) {
        case (nil, _), ("string", .string), ("integer", .integer), ("number", .number), ("number", .integer), ("boolean", .bool):
            return []
        case ("array", .array(let items)):
            let itemSchema = schema["items"] as? [String: Any] ?? [:]
            return items.enumerated().flatMap { check($0.element, against: itemSchema, at: "\(location)[\($0.offset)]") }
        case ("object", .object(let fields)):
            var problems = (schema["required"] as? [String] ?? []).filter { fields[$0] == nil }.map { "\(location).\($0) is missing" }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, field) in fields {
                if let property = properties[key] as? [String: Any] {
                    problems += check(field, against: property, at: "\(location).\(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    problems += check(field, against: additional, at: "\(location).\(key)")
                } else if !properties.isEmpty {
                    problems.append("\(location).\(key) is not in the schema")
                }
            }
            return problems
        default:
            return ["\(location) is not \(schema["type"] ?? "?"): \(value.jsonText)"]
        }
    }
}
