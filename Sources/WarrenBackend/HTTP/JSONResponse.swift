import Foundation
import Hummingbird
import WarrenCore

/// JSON bodies of the HTTP API.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, text: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func make(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        make(status, text: value.jsonText, headers: headers)
    }

    /// `{"error": "…"}` with `status`.
    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        make(status, .object(["error": .string(message)]), headers: headers)
    }

    /// A result as the same JSON object `warren results list --json` prints.
    static func resultText(_ result: TaskResult) -> String {
        (try? String(decoding: result.jsonData(), as: UTF8.self)) ?? "{}"
    }

    /// `[a,b,…]` of results.
    static func resultsText(_ results: [TaskResult]) -> String {
        "[" + results.map(resultText).joined(separator: ",") + "]"
    }
}
