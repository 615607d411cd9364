import Foundation
import Testing
@testable import WarrenCore

/// The JSON reader and writer on the task and result hot path.
@Suite struct JSONTextTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONText.parse(Array(#" { "a": [1, -2.5, 3e2, true, false, null], "b": "x\"y\\z\/\n\u00e9\ud83d\ude00", "c": {} } "#.utf8))
        #expect(value == .object([
            "a": .array([.integer(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]),
            "b": .string("x\"y\\z/\né😀"),
            "c": .object([:]),
        ]))
    }

    @Test func writesCompactSortedText() {
        let value = JSONValue.object(["b": .array([.integer(1), .number(0.5), .null]), "a": .string("q\"\u{1}\n"), "c": .bool(true)])
        #expect(JSONText.write(value) == #"{"a":"q\"\u0001\n","b":[1,0.5,null],"c":true}"#)
    }

    @Test func roundTripsAgreeWithFoundation() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let value = Self.randomValue(depth: 0, &random)
            let text = JSONText.write(value)
            #expect(try JSONText.parse(Array(text.utf8)) == value, "\(text)")
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil, "Foundation refused \(text)")
        }
    }

    static func randomValue(depth: Int, _ random: inout SystemRandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .integer(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random))
        case 3: return .number(Double.random(in: -1e6...1e6, using: &random))
        case 4: return .string(String((0..<Int.random(in: 0..<8, using: &random)).map { _ in "aé\"\\\n\u{7}😀 /".randomElement(using: &random)! }))
        case 5: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in randomValue(depth: depth + 1, &random) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0..<4, using: &random) { members["k\(index)\"é"] = randomValue(depth: depth + 1, &random) }
            return .object(members)
        }
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a string key"), ("[1,]", "unexpected character"),
        ("{\"a\" 1}", "expected \":\""), ("\"abc", "unterminated string"), ("01", "unexpected text after the value"),
        ("-", "invalid number"), ("1.", "invalid number"), ("tru", "unexpected end of input"), ("\"\\x\"", "invalid escape"),
        ("\"\\ud800\"", "unpaired surrogate"), ("\"a\nb\"", "control character in a string"), ("1e999", "number out of range"),
        ("nul", "unexpected end of input"), ("[1] x", "unexpected text after the value"),
    ])
    func refusesBadJSON(text: String, message: String) {
        #expect {
            _ = try JSONText.parse(Array(text.utf8))
        } throws: { error in
            (error as? JSONSyntaxError)?.message == message
        }
    }

    @Test func refusesDuplicateKeys() throws {
        #expect(throws: JSONSyntaxError(offset: 8, message: "duplicate key \"a\"")) { try JSONText.parse(Array(#"{"a":1, "a":2}"#.utf8)) }
        #expect(throws: JSONSyntaxError(offset: 21, message: "duplicate key \"b\"")) { try JSONText.parse(Array(#"[{"b":{},"x":{"b":1},"b":2}]"#.utf8)) }
        #expect(throws: JSONSyntaxError(offset: 17, message: "duplicate key \"task\"")) {
            try TaskMessage.parseBodyMembers(#"{"task":"nope.x","task":"warren.echo"}"#)
        }
        #expect(throws: JSONSyntaxError(offset: 22, message: "duplicate key \"other\"")) {
            try TaskMessage.parseBodyMembers(#"{"task":"x","other":1,"other":2}"#)
        }
        // The same key in different objects is not a duplicate.
        #expect(try JSONText.parse(Array(#"{"a":{"a":1},"b":{"a":2}}"#.utf8)) == .object(["a": .object(["a": .integer(1)]), "b": .object(["a": .integer(2)])]))
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONSyntaxError.self) { try JSONText.parse(Array(String(repeating: "[", count: 600).utf8)) }
    }

    @Test func resultsRoundTrip() throws {
        var result = TaskResult(id: "id-1", task: "warren.echo", queue: "q", attempt: 2, status: .succeeded)
        result.worker = "host:1"
        result.startedAt = TaskResult.timestamp(Date(timeIntervalSince1970: 1_795_000_000.125))
        result.durationMs = 12
        result.exitCode = 0
        result.output = "line\n"
        result.result = .object(["x": .integer(1)])
        #expect(result.startedAt == "2026-11-18T11:06:40.125Z")
        let data = try result.jsonData()
        #expect(try TaskResult.decode(data) == result)
        let fields = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(fields.count == 22, "every field of SPEC §3a, args, traceparent, trigger, batch, published_at, run_id and redelivered")
        #expect(fields["args"] is NSNull)
        #expect(fields["batch"] is NSNull)
        #expect(fields["trigger"] is NSNull)
        #expect(fields["schedule"] is NSNull)
        #expect(fields["traceparent"] is NSNull)
        #expect(fields["run_id"] is NSNull)
        #expect(fields["redelivered"] as? Bool == false)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"args":null,"attempt":2,"batch":null,"duration_ms":12,"error":null,"exit_code":0,"finished_at":null,"id":"id-1","output":"line\n","#))
        #expect(text.hasSuffix(#""task":"warren.echo","traceparent":null,"trigger":null,"worker":"host:1"}"#))
    }

    @Test("args ride in the result as given up to the limit; beyond it, their size and first KiB")
    func boundedArgs() throws {
        let small = JSONValue.object(["name": .string("ünïcode"), "n": .integer(3)])
        #expect(TaskResult.boundedArgs(small, limit: 64) == small)
        let big = JSONValue.object(["blob": .string(String(repeating: "é", count: 2000))])
        let bounded = TaskResult.boundedArgs(big, limit: 1500)
        #expect(bounded["truncated"] == .bool(true))
        #expect(bounded["bytes"] == .integer(Int64(JSONText.write(big).utf8.count)))
        guard case .string(let head)? = bounded["head"] else { Issue.record("no head: \(bounded)"); return }
        #expect(head.utf8.count <= 1024 && head.hasPrefix(#"{"blob":"éé"#), "whole characters, at most a KiB")
        var result = TaskResult(id: "i", task: "t", queue: "q", attempt: 1, status: .succeeded)
        result.args = bounded
        #expect(try TaskResult.decode(result.jsonData()).args == bounded)
        #expect(TaskResult.boundedArgs(big, limit: 1500, atMost: 2 * 2000 + 20) == bounded, "a bound over the limit: measured")
        #expect(TaskResult.boundedArgs(small, limit: 64, atMost: 40) == small, "a body within the limit holds args within it")
    }

    @Test("a result carries its run: run_id and redelivered round-trip; results of older workers without them still read")
    func resultRuns() throws {
        var result = TaskResult(id: "id-2", task: "warren.echo", queue: "q", attempt: 1, status: .succeeded)
        result.runID = TaskResult.newRunID()
        result.redelivered = true
        let data = try result.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""queue":"q","redelivered":true,"result":null,"run_id":"\#(result.runID!)","schedule":null"#))
        #expect(try TaskResult.decode(data) == result)
        let older = try TaskResult.decode(Data(#"{"id":"id-3","task":"t","queue":"q","attempt":2,"status":"failed"}"#.utf8))
        #expect(older.runID == nil)
        #expect(older.redelivered == false)
    }

    @Test("a result names its batch: batch round-trips in key order; a result without the key, or with null, has none")
    func resultBatch() throws {
        var result = TaskResult(id: "id-4", task: "warren.echo", queue: "q", attempt: 1, status: .failed)
        result.batch = "5f0c2a7e-batch"
        result.error = "nope"
        let data = try result.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"args":null,"attempt":1,"batch":"5f0c2a7e-batch","duration_ms":null,"#))
        let decoded = try TaskResult.decode(data)
        #expect(decoded == result)
        #expect(decoded.batch == "5f0c2a7e-batch")
        let without = try TaskResult.decode(Data(#"{"id":"id-5","task":"t","queue":"q","attempt":1,"status":"succeeded"}"#.utf8))
        #expect(without.batch == nil)
        let null = try TaskResult.decode(Data(#"{"id":"id-6","task":"t","queue":"q","attempt":1,"status":"succeeded","batch":null}"#.utf8))
        #expect(null.batch == nil)
        let odd = try TaskResult.decode(Data(#"{"id":"id-7","task":"t","queue":"q","attempt":1,"status":"succeeded","batch":7}"#.utf8))
        #expect(odd.batch == nil && odd.id == "id-7", "a batch that is not text is left out; the result still reads")
    }

    @Test("run ids are 16 lowercase hex digits, a new one each time")
    func runIDs() {
        let ids = (0..<200).map { _ in TaskResult.newRunID() }
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy { "0123456789abcdef".contains($0) } }, "\(ids.prefix(3))")
        #expect(Set(ids).count == ids.count)
    }

    @Test func writesIntegersWithoutText() {
        for number: Int64 in [0, 7, -7, 10, 1_000_000, -1_234_567_890_123, .max, .min] {
            var bytes: [UInt8] = []
            JSONText.writeInteger(number, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(number))
        }
    }

    @Test func readsIntegersOfEveryLength() throws {
        // 18 digits take the direct path, 19 the text path; beyond Int64 is a Double.
        for text in ["0", "-0", "123456789012345678", "-123456789012345678", "9223372036854775807", "-9223372036854775808"] {
            #expect(try JSONText.parse(Array(text.utf8)) == .integer(Int64(text)!), "\(text)")
        }
        #expect(try JSONText.parse(Array("9223372036854775808".utf8)) == .number(9_223_372_036_854_775_808))
    }

    @Test func readsChosenMembersOfAnObject() throws {
        func members(_ text: String) throws -> [JSONValue?]? {
            try Array(text.utf8).withUnsafeBufferPointer { buffer in try JSONText.parseMembers(buffer: buffer, keys: ["task", "args"]) }
        }
        #expect(try members(#" {"args": {"n": 1}, "other": [1, {"task": 2}], "task": "t"} "#) == [.string("t"), .object(["n": .integer(1)])])
        #expect(throws: JSONSyntaxError(offset: 14, message: "duplicate key \"task\""), "a repeated key is refused, as parse does") {
            try members(#"{"task": "a", "task": "b"}"#)
        }
        #expect(try members("{}") == [nil, nil])
        #expect(try members("[1]") == nil, "valid JSON that is not an object")
        #expect(throws: JSONSyntaxError.self) { try members(#"{"task": "a""#) }
        #expect(throws: JSONSyntaxError.self) { try members(#"{"task": "a", "x": tru}"#) }
        #expect(throws: JSONSyntaxError.self) { try members(#"{"task": "a"} {}"#) }
    }

    @Test func taskBodiesSayWhatIsWrong() throws {
        let parsed = try TaskMessage.parseBody(Data(#"{"task":"warren.echo"}"#.utf8))
        #expect(parsed.task == "warren.echo" && parsed.args == .object([:]), "args default to {}")
        let cases: [(String, String)] = [
            ("[]", "not a JSON object"), ("{\"task\": 1}", "\"task\" must be a string"), ("{}", "has no \"task\""),
            ("{\"task\": \"\"}", "\"task\" is empty"), ("{\"task\": \"a\",}", "invalid JSON at byte"),
        ]
        for (body, message) in cases {
            #expect {
                _ = try TaskMessage.parseBody(Data(body.utf8))
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}

extension TaskMessage {
    /// `JSONText.parseMembers` on a body's text, as `parseBody` calls it.
    static func parseBodyMembers(_ text: String) throws(JSONSyntaxError) -> [JSONValue?]? {
        let bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) in try JSONText.parseMembers(buffer: buffer, keys: ["task", "args"]) }
        }
        return try parsed.get()
    }
}
