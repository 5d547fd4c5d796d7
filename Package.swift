// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tandem", targets: ["tandem"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // Pure sync semantics: no I/O, no clock reads, no logging.
        .target(name: "TandemCore", swiftSettings: swiftSettings),
        // Threads for blocking C calls, kept off Swift's cooperative pool.
        .target(name: "TandemSupport", swiftSettings: swiftSettings),
        // Reference C clients.
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // Async Swift clients over them.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", "TandemSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Redis",
            dependencies: ["CHiredis", "TandemSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "HTTP",
            dependencies: ["CCurl", "TandemSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TandemConnectors",
            dependencies: ["HTTP", "TandemCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TandemQueue",
            dependencies: ["Redis", "TandemCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Configuration as code: the YAML schema, parsing and validation (pure; the tools and their options come from
        // the connector registry).
        .target(
            name: "TandemConfig",
            dependencies: ["TandemCore", "TandemConnectors", "Yams"],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL: migrations, secrets, configuration storage.
        .target(
            name: "TandemStore",
            dependencies: [
                "Postgres", "TandemConfig", "TandemCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        // The cluster's processes: coordinator (leader lease, scheduling) and worker (job handlers, the sync engine).
        .target(
            name: "TandemCluster",
            dependencies: [
                "TandemStore", "TandemConfig", "TandemCore", "TandemQueue", "TandemConnectors", "HTTP", "Postgres", "Redis",
                "TandemSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Cluster-wide metrics: every process records into Redis; the server renders them for Prometheus.
        .target(
            name: "TandemMetrics",
            dependencies: [
                "Redis", "TandemQueue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `tandem server`: Hummingbird application with /health and /metrics.
        .target(
            name: "TandemServer",
            dependencies: [
                "TandemMetrics", "TandemQueue", "TandemStore", "TandemSupport", "TandemCluster", "TandemConfig", "TandemConnectors",
                "TandemCore", "HTTP", "Postgres", "Redis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `tandem simulate`: in-memory repositories shared by processes over HTTP (RemoteMemoryConnector's server).
        .target(
            name: "TandemSimulator",
            dependencies: [
                "TandemConnectors", "TandemCore", "HTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tandem",
            dependencies: [
                "TandemStore", "TandemConfig", "TandemQueue", "TandemConnectors", "TandemCluster", "TandemServer", "TandemSupport",
                "TandemSimulator",
                "TandemMetrics", "HTTP", "Postgres", "Redis",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The queue's consumer process for its multi-process tests, and its benchmark (Ops/bench/queue.sh).
        .executableTarget(
            name: "tandem-queue-drill",
            dependencies: [
                "TandemQueue", "Redis", "TandemSupport", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Ops/drills/queue",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemCoreTests",
            dependencies: ["TandemCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TandemConfigTests", dependencies: ["TandemConfig", "TandemTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"], swiftSettings: swiftSettings),
        .executableTarget(name: "tandem-bench-pg", dependencies: ["Postgres"], path: "Ops/bench/pg"),
        // The whole-pipeline benchmark's driver (Ops/bench/pipeline.sh): load on the simulator, twins counted, lag.
        .executableTarget(
            name: "tandem-bench-pipeline", dependencies: ["TandemConnectors", "HTTP", "TandemCore"], path: "Ops/bench/pipeline",
            swiftSettings: swiftSettings),
        .executableTarget(name: "tandem-bench-core", dependencies: ["TandemCore"], path: "Ops/bench/core", swiftSettings: swiftSettings),
        // Configuration validation's growth with a select field's size (Ops/bench/config.sh).
        .executableTarget(name: "tandem-bench-config", dependencies: ["TandemConfig"], path: "Ops/bench/config", swiftSettings: swiftSettings),
        .testTarget(
            name: "TandemStoreTests",
            dependencies: ["TandemStore", "Postgres", "TandemConfig", "TandemConnectors", "TandemTestSupport"],
            swiftSettings: swiftSettings
        ),
        // Fake servers and sockets shared by the test targets.
        .target(name: "TandemTestSupport", path: "Tests/TandemTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TandemConnectors", "TandemTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TandemConnectorsTests",
            dependencies: ["TandemConnectors", "HTTP", "TandemCore", "TandemSimulator"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RedisTests", dependencies: ["Redis"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TandemQueueTests", dependencies: ["TandemQueue", "Redis", "TandemSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemMetricsTests",
            dependencies: [
                "TandemMetrics", "TandemQueue", "Redis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemClusterTests",
            dependencies: [
                "TandemCluster", "TandemStore", "TandemConfig", "TandemCore", "TandemQueue", "TandemConnectors", "Postgres", "Redis",
                "TandemSupport", "TandemTestSupport", "HTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemServerTests",
            dependencies: [
                "TandemServer", "TandemMetrics", "TandemQueue", "TandemStore", "TandemSupport", "TandemTestSupport", "Postgres", "Redis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
