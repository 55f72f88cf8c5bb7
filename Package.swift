// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sonda",
    // Linux only (Debian 12 and later; README "Prerequisites"): the agent waits on epoll and
    // timerfd and calls glibc 2.36's arc4random_buf. `platforms:` can name only Apple systems, and
    // none of them is supported, so it lists none.
    products: [
        .executable(name: "sonda-agent", targets: ["sonda-agent"]),
        .executable(name: "sonda-aggregator", targets: ["sonda-aggregator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev", "libssl-dev"])]
        ),
        // The agent's scheduler alarm (timerfd, eventfd, epoll) and its global-executor hook.
        .target(name: "CSondaSystem"),
        .target(name: "SondaCore"),
        .target(
            name: "SondaCLI", dependencies: ["SondaCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "SondaProbe", dependencies: ["CCurl", "SondaCore"]),
        .target(name: "SondaKeys", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SondaConfig",
            dependencies: ["CCurl", "SondaCore", "SondaKeys", .product(name: "Yams", package: "Yams")]),
        // The one HTTP server stack (HummingbirdCore on SwiftNIO) with the limits both binaries' servers share.
        .target(
            name: "SondaHTTPServer",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        .target(
            name: "SondaAgent",
            dependencies: [
                "SondaCore", "SondaProbe", "SondaConfig", "SondaKeys", "CSondaSystem", "SondaHTTPServer",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(
            name: "sonda-agent",
            dependencies: [
                "SondaAgent", "SondaProbe", "SondaCore", "SondaConfig", "SondaCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // lld with packed relative relocations (RELR): the static binary's 2 MB table of
            // relocations, read at every start and then resident, shrinks to 17 KB, and the agent's
            // idle RSS by about 2 MB. The toolchain ships lld; glibc 2.36 reads RELR.
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-fuse-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]
        ),
        .target(
            name: "SondaAggregator",
            dependencies: [
                "SondaCore", "SondaConfig", "SondaKeys", "SondaHTTPServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "sonda-aggregator",
            dependencies: [
                "SondaAggregator", "SondaCore", "SondaConfig", "SondaCLI", "SondaKeys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ingest-baseline", dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/IngestBaseline"),
        .executableTarget(
            name: "postgres-ingest-baseline",
            dependencies: [
                "SondaAggregator", "SondaConfig", "SondaCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/PostgresIngestBaseline"),
        .executableTarget(
            name: "ingest-steps",
            dependencies: [
                "SondaAggregator", "SondaConfig", "SondaCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/IngestSteps"),
        .target(
            name: "RollupFill",
            dependencies: [
                "SondaAggregator", "SondaConfig", "SondaCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/RollupFill"),
        .executableTarget(
            name: "budget-query-bench",
            dependencies: ["SondaAggregator", "SondaCore", "RollupFill", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/BudgetQuery"),
        .executableTarget(
            name: "alert-replay-bench", dependencies: ["SondaAggregator", "SondaCore", "SondaConfig"], path: "Benchmarks/AlertReplay"),
        .executableTarget(
            name: "status-page-bench",
            dependencies: [
                "SondaAggregator", "SondaCore", "SondaConfig", "RollupFill", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/StatusPage"),
        .executableTarget(
            name: "config-bench", dependencies: ["SondaConfig", .product(name: "Yams", package: "Yams")],
            path: "Benchmarks/ConfigLoad"),
        // `make fuzz` builds it with libFuzzer (-sanitize=fuzzer) in .build-fuzz; built otherwise it only says so.
        .executableTarget(
            name: "sonda-fuzz", dependencies: ["SondaAggregator", "SondaConfig", "SondaCore"], path: "Tests/Fuzz/Harness"),
        .target(
            name: "TestSupport", path: "Tests/Support",
            exclude: [
                "test-receiver.py", "https-proxy.py", "line-server.py", "recording-receiver.py", "signed-post.py",
                "validate-json.py",
            ]),
        .testTarget(name: "SondaCoreTests", dependencies: ["SondaCore"]),
        .testTarget(name: "SondaProbeTests", dependencies: ["SondaProbe", "SondaCore", "TestSupport"]),
        .testTarget(name: "SondaConfigTests", dependencies: ["SondaConfig", "SondaCore", "TestSupport"]),
        .testTarget(
            name: "SondaAgentTests",
            dependencies: [
                "SondaAgent", "SondaConfig", "SondaCore", "SondaHTTPServer", "SondaProbe", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "SondaAggregatorTests",
            dependencies: [
                "SondaAggregator", "SondaCore", "SondaConfig", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .testTarget(
            name: "EndToEndTests", dependencies: ["SondaCore", "TestSupport", .product(name: "Yams", package: "Yams")]),
    ]
)
