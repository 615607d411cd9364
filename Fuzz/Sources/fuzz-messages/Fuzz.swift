import Foundation
import WarrenCore

/// Any bytes as a task body, a result, and a task request: decode or throw, never crash; what
/// decodes re-encodes and decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    _ = try? TaskMessage.parseBody(bytes)
    if let result = try? TaskResult.decode(bytes), let again = try? TaskResult.decode(result.jsonData()) {
        precondition(again == result, "a result does not survive encoding")
    }
    if let value = try? JSONText.parse(bytes) {
        precondition((try? JSONText.parse(Array(value.jsonText.utf8))) == value, "JSON does not survive writing")
        if let request = try? TaskRequest(json: value) { _ = try? request.validated() }
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// The executable's entry point (SwiftPM links `main` to it): hands control to libFuzzer.
@_cdecl("fuzz_messages_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
