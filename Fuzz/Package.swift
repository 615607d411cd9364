// swift-tools-version:6.0
// libFuzzer targets for Warren's parsers and decoders. Built only by scripts/fuzz; the main
// package and CI never build them.
import PackageDescription

// scripts/fuzz builds every module (Cron, WarrenCore, Yams too) with
// `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library`, so libFuzzer sees their coverage
// (each target defines its own entry point, which hands control to libFuzzer).

let package = Package(
    name: "warren-fuzz",
    dependencies: [.package(name: "warren", path: "..")],
    targets: [
        .executableTarget(name: "fuzz-cron", dependencies: [.product(name: "Cron", package: "warren")]),
        .executableTarget(name: "fuzz-schedule-file", dependencies: [.product(name: "WarrenCore", package: "warren")]),
        .executableTarget(name: "fuzz-task-catalog", dependencies: [.product(name: "WarrenCore", package: "warren")]),
        .executableTarget(name: "fuzz-messages", dependencies: [.product(name: "WarrenCore", package: "warren")]),
    ],
    swiftLanguageModes: [.v6]
)
