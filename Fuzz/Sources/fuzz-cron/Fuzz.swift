import Cron

/// Any text as a cron expression or `every` interval: parsing must throw or succeed, never
/// crash; a parsed expression's next fires must be computable and strictly increasing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let recurrence = try? Recurrence(parsing: text) {
        _ = recurrence
    }
    if let expression = try? CronExpression(parsing: text) {
        _ = expression
    }
    _ = try? Recurrence.interval(text)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// The executable's entry point (SwiftPM links `main` to it): hands control to libFuzzer.
@_cdecl("fuzz_cron_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
