// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "warren",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "warren", targets: ["warren"]),
        .library(name: "RabbitMQ", targets: ["RabbitMQ"]),
        .library(name: "Cron", targets: ["Cron"]),
        // Messages, files and names; the fuzz targets in Fuzz/ link it.
        .library(name: "WarrenCore", targets: ["WarrenCore"]),
        // Embed the worker in a Swift program and register typed task handlers.
        .library(name: "WarrenWorker", targets: ["WarrenWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Spans around publishing and running a task (the API), exported over OTLP/HTTP (swift-otel,
        // without its gRPC exporter and the gRPC packages that would bring).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "CRabbitMQShim",
            dependencies: ["CRabbitMQ"],
            linkerSettings: [.linkedLibrary("rabbitmq"), .linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .target(
            name: "RabbitMQ",
            dependencies: [
                "CRabbitMQ",
                "CRabbitMQShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Cron expressions, time zones and daylight-saving rules: pure values, no I/O.
        .target(name: "Cron"),
        // Messages, names, durations and the schedule and task-catalog files.
        .target(name: "WarrenCore", dependencies: ["Cron", .product(name: "Yams", package: "Yams")]),
        // Task and result messages over AMQP: properties, headers, topology, the delay chain.
        .target(
            name: "WarrenMessaging",
            dependencies: [
                "WarrenCore", "RabbitMQ",
                .product(name: "DequeModule", package: "swift-collections"),
                // For waiting on the broker at start the same way in every service.
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The reaper `run` tasks start under, so they die with their worker (C: fork, exec, wait).
        .target(name: "CTaskReaper"),
        // `warren worker`: consumes tasks, runs them from the catalog, publishes results.
        .target(
            name: "WarrenWorker",
            dependencies: [
                "Cron", "WarrenCore", "WarrenMessaging", "RabbitMQ", "CTaskReaper",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // `warren scheduler`: publishes due fires; one active instance, chosen through the broker.
        .target(
            name: "WarrenScheduler",
            dependencies: [
                "Cron", "WarrenCore", "WarrenMessaging", "RabbitMQ",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Result stores: SQLite (GRDB) and PostgreSQL (postgres-nio) behind one protocol; pure storage, no AMQP.
        .target(
            name: "WarrenStore",
            dependencies: [
                "WarrenCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `warren doctor`: gathers the broker's and Warren's effective settings, then judges them with pure rules.
        .target(
            name: "WarrenDoctor",
            dependencies: [
                "WarrenCore", "WarrenMessaging", "RabbitMQ",
                // Runs the operator's rabbitmqctl (argv, never a shell) to read broker settings AMQP does not carry.
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // `warren backend`: consumes results, stores them in batches, acks after the commit; serves the HTTP API.
        .target(
            name: "WarrenBackend",
            dependencies: [
                "Cron", "WarrenCore", "WarrenMessaging", "WarrenStore", "RabbitMQ",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // Bearer tokens, the dashboard's sign-in session (cookie) and the identity on each request.
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            ]
        ),
        .executableTarget(
            name: "warren",
            dependencies: [
                "RabbitMQ",
                "Cron",
                "WarrenCore",
                "WarrenMessaging",
                "WarrenWorker",
                "WarrenScheduler",
                "WarrenStore",
                "WarrenBackend",
                "WarrenDoctor",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            // `warren --version` names the git commit it was built from.
            plugins: ["BuildCommit"]
        ),
        .plugin(name: "BuildCommit", capability: .buildTool(), path: "Plugins/BuildCommit"),
        .testTarget(name: "RabbitMQTests", dependencies: ["RabbitMQ", "WarrenTestSupport"]),
        .testTarget(name: "CronTests", dependencies: ["Cron"]),
        .testTarget(name: "WarrenCoreTests", dependencies: ["WarrenCore"]),
        .testTarget(name: "StoreTests", dependencies: ["WarrenStore", "WarrenCore", "WarrenTestSupport",
                                                       .product(name: "Logging", package: "swift-log"),
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        // `warren backend`, `results`, `publish --wait|--batch` and `status`, end to end (real binary, broker, stores).
        .testTarget(
            name: "BackendTests",
            dependencies: ["warren", "WarrenTestSupport", "RabbitMQ", "WarrenCore", "WarrenMessaging", "WarrenStore", "WarrenBackend",
                           .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")]
        ),
        // Drives the real `warren` binary; depending on it makes `swift build --build-tests` build it.
        .testTarget(name: "WarrenCLITests", dependencies: ["warren", "WarrenTestSupport", .product(name: "Yams", package: "Yams")]),
        // Helpers the end-to-end test targets share: the `warren` binary as a process, waiting on conditions.
        .target(name: "WarrenTestSupport", dependencies: ["WarrenCore", "WarrenStore", .product(name: "Logging", package: "swift-log")],
                path: "Tests/WarrenTestSupport"),
        .testTarget(
            name: "WorkerTests",
            dependencies: ["warren", "WarrenTestSupport", "RabbitMQ", "WarrenCore", "WarrenMessaging", "WarrenWorker",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "InMemoryTracing", package: "swift-distributed-tracing")]
        ),
        .testTarget(
            name: "SchedulerTests",
            dependencies: ["warren", "WarrenTestSupport", "Cron", "RabbitMQ", "WarrenCore", "WarrenMessaging", "WarrenScheduler",
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
        // `warren doctor`: its rules in process, and the real binary against a broker set up with each problem.
        .testTarget(
            name: "DoctorTests",
            dependencies: ["warren", "WarrenTestSupport", "WarrenDoctor", "WarrenCore", "WarrenMessaging", "RabbitMQ"]
        ),
        // Warren on a real three-node RabbitMQ cluster: run by `scripts/cluster test` (and so by scripts/test), skipped otherwise.
        .testTarget(
            name: "ClusterTests",
            dependencies: ["warren", "WarrenTestSupport", "RabbitMQ", "WarrenCore", "WarrenMessaging", "WarrenScheduler", "WarrenStore", "Cron"]
        ),
        // Benchmarks (run by scripts/bench, release builds only).
        .executableTarget(name: "warren-amqp-bench", dependencies: ["RabbitMQ"], path: "Benchmarks/AMQPBenchmark"),
        .executableTarget(
            name: "warren-cron-bench",
            dependencies: ["Cron", "WarrenCore", .product(name: "Yams", package: "Yams")],
            path: "Benchmarks/CronBenchmark"
        ),
        .executableTarget(
            name: "warren-scheduler-bench",
            dependencies: ["Cron", "WarrenCore", "WarrenMessaging", "WarrenScheduler", "RabbitMQ",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/SchedulerBenchmark"
        ),
        .executableTarget(
            name: "warren-roundtrip-bench",
            dependencies: ["RabbitMQ", "WarrenCore", "WarrenMessaging", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/RoundTripBenchmark"
        ),
        .executableTarget(
            name: "warren-workflow-bench",
            dependencies: ["RabbitMQ", "WarrenCore", "WarrenMessaging", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/WorkflowBenchmark"
        ),
        .executableTarget(
            name: "warren-backend-bench",
            dependencies: ["RabbitMQ", "WarrenCore", "WarrenMessaging", "WarrenStore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/BackendBenchmark"
        ),
    ],
    swiftLanguageModes: [.v6]
)
