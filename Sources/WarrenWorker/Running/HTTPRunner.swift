import AsyncHTTPClient
import Cron
import Foundation
import NIOCore
import WarrenCore

/// Runs a catalog `http` task with AsyncHTTPClient: 2xx is success, the response body's tail is
/// the output, anything else (or no answer within the timeout) fails the attempt.
enum HTTPRunner {
    /// `traceparent` (the run's span) is sent as the `traceparent` header unless the catalog sets one.
    static func run(_ specification: HTTPSpecification, definition: TaskDefinition, args: JSONValue, traceparent: String? = nil) async -> TaskOutcome {
        let url: String
        do {
            url = try specification.resolvedURL(with: args)
        } catch {
            return TaskOutcome(status: .badArguments, error: error.description)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: specification.method)
        if let traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        for (name, value) in specification.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if specification.sendsBody {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: JSONText.write(args)))
        }
        let timeout = definition.timeout.map { min($0, specification.timeout) } ?? specification.timeout
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(milliseconds))
            var tail = OutputTail(limit: definition.maxOutput)
            for try await chunk in response.body {
                chunk.withUnsafeReadableBytes { tail.append($0) }
            }
            let output = tail.text()
            if (200..<300).contains(response.status.code) {
                return TaskOutcome(status: .succeeded, output: output, result: .object(["status": .integer(Int64(response.status.code))]))
            }
            return TaskOutcome(status: .failed, output: output, error: "HTTP \(response.status.code) \(response.status.reasonPhrase) from \(specification.method) \(redacted(url))")
        } catch {
            if Task.isCancelled { return TaskOutcome(status: .interrupted) }
            if let clientError = error as? HTTPClientError, clientError == .deadlineExceeded || clientError == .readTimeout {
                return TaskOutcome(status: .timedOut, error: "no answer from \(specification.method) \(redacted(url)) within \(DurationSyntax.format(timeout))")
            }
            return TaskOutcome(status: .failed, error: "\(specification.method) \(redacted(url)) failed: \(error)")
        }
    }

    /// The URL without its query or credentials, for error messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "(url)" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "(url)"
    }
}
