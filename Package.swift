// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "KubeJournal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kj", targets: ["kj"]),
        .library(name: "Journal", targets: ["Journal"]),
        // The fuzz targets, for the libFuzzer harnesses of the separate package in Fuzz/.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // liblmdb from the system (Debian: liblmdb-dev).
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // libedit from the system (Debian: libedit-dev, BSD-licensed): line editing and history for
        // kj debug on a terminal.
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // zlib from the system (Debian: zlib1g-dev): gzip-compressed audit logs.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The raw-liblmdb baseline the journal benchmark compares against.
        .target(
            name: "CLMDBBaseline",
            dependencies: ["CLMDB"]
        ),
        .target(
            name: "Journal",
            dependencies: [
                "CLMDB",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Kubernetes-shaped resources, quantities, manifests, validation, selectors and patches.
        .target(
            name: "ClusterModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // The event vocabulary, the Store (the only write path), the projection and watches.
        .target(
            name: "ControlPlane",
            dependencies: ["Journal", "ClusterModel"]
        ),
        // kube-scheduler's default profile, with every decision explained.
        .target(
            name: "Scheduler",
            dependencies: ["ControlPlane", "ClusterModel", "Journal", .product(name: "HeapModule", package: "swift-collections")]
        ),
        // kube-controller-manager's controllers (the DaemonSet controller borrows the scheduler's node predicates).
        .target(name: "Controllers", dependencies: ["ControlPlane", "ClusterModel", "Journal", "Scheduler", .product(name: "HeapModule", package: "swift-collections")]),
        // Simulated kubelets and container runtime.
        .target(
            name: "NodeAgent",
            dependencies: ["ControlPlane", "ClusterModel", "Journal", .product(name: "HeapModule", package: "swift-collections")]
        ),
        // Clocks, the driver (live and virtual time), scenarios, faults.
        .target(
            name: "Simulation",
            dependencies: [
                "ControlPlane", "ClusterModel", "Journal", "Scheduler", "Controllers", "NodeAgent",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Replays of recorded journals: lockstep verification of every component's decisions.
        .target(name: "Replay", dependencies: ["Journal", "ClusterModel", "ControlPlane", "Scheduler", "Controllers", "NodeAgent", "Simulation"]),
        // Kubernetes audit logs (audit.k8s.io v1, v1beta1) read as journal events.
        .target(name: "AuditLog", dependencies: ["Journal", "ClusterModel", "ControlPlane", "CZlib", .product(name: "HeapModule", package: "swift-collections")]),
        // A client of a Kubernetes API server (AsyncHTTPClient): kubeconfigs, lists, watches.
        .target(
            name: "ClusterClient",
            dependencies: [
                "ClusterModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // A live API server recorded by listing and watching it, as client-go's informers do.
        .target(
            name: "Recorder",
            dependencies: [
                "Journal", "ClusterModel", "ControlPlane", "ClusterClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Answers from the journal: object histories, why a pod is where it is, diffs between revisions.
        .target(name: "Queries", dependencies: ["Journal", "ClusterModel", "ControlPlane", "Scheduler"]),
        // The Kubernetes API over HTTP (Hummingbird 2): discovery, REST, watch, tables, Status
        // errors, bearer tokens, the journal's query endpoints and /metrics.
        .target(
            name: "APIServer",
            dependencies: [
                "Journal", "ClusterModel", "ControlPlane", "Scheduler", "Controllers", "NodeAgent", "Simulation", "Queries", "AuditLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KjCLI",
            dependencies: [
                "Journal",
                "ClusterModel",
                "ControlPlane",
                "Controllers",
                "Scheduler",
                "Simulation",
                "NodeAgent",
                "Queries",
                "Replay",
                "APIServer",
                "AuditLog",
                "Recorder",
                "ClusterClient",
                "CLMDBBaseline",
                "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The API benchmark's own HTTP client (watchers, paced writers).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(name: "kj", dependencies: ["KjCLI"]),
        // Decoders of outside input, one entry function per fuzz target (docs/fuzzing.md).
        .target(name: "FuzzTargets", dependencies: ["ClusterModel", "Journal", "APIServer"]),
        // Helpers shared by the test targets: temporary directories, the built `kj`, seeded randomness.
        .target(name: "TestSupport", dependencies: ["Journal"], path: "Tests/TestSupport"),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "CLMDB", "TestSupport", "kj"]),
        .testTarget(name: "ClusterModelTests", dependencies: ["ClusterModel", "TestSupport"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "ControlPlane", "ClusterModel", "TestSupport"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "ClusterModel"]),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "Simulation", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Scheduler", "ControlPlane", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Simulation", "ControlPlane", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "AuditLogTests", dependencies: ["AuditLog", "ClusterModel", "ControlPlane", "Journal", "TestSupport", "kj"], exclude: ["fixtures"]),
        .testTarget(name: "RecorderTests", dependencies: ["Recorder", "ClusterClient", "ClusterModel", "ControlPlane", "Journal", "TestSupport"]),
        .testTarget(name: "QueriesTests", dependencies: ["Queries", "Journal", "ClusterModel", "ControlPlane", "Scheduler", "Simulation", "TestSupport", "kj"]),
        // The API without a server: protobuf request bodies captured from kubectl, and their JSON.
        .testTarget(name: "APIServerTests", dependencies: [
            "APIServer", "AuditLog", "ClusterModel", "ControlPlane", "Journal", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ], exclude: ["fixtures"]),
        // kubectl, curl and the Python kubernetes client against a running `kj serve`.
        .testTarget(name: "AcceptanceTests", dependencies: ["TestSupport", "kj"]),
        .testTarget(name: "KjCLITests", dependencies: ["KjCLI", "Journal", "TestSupport", "kj"]),
        // Runs one fuzz target over files and seeded mutations of them, in a process of its own.
        .executableTarget(name: "kj-fuzz-replay", dependencies: ["FuzzTargets", "TestSupport"], path: "Tests/FuzzReplay"),
        // Every fuzz target over its committed corpus, its regressions and seeded mutations.
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "TestSupport", "kj-fuzz-replay"], exclude: ["corpus", "regressions", "pending"]),
        // Hostile and unlucky input across the whole control plane: accepted events always fold
        // again, and no component, query or command traps on them.
        .testTarget(
            name: "RobustnessTests",
            dependencies: ["Simulation", "Queries", "ControlPlane", "ClusterModel", "Journal", "NodeAgent", "TestSupport", "kj"]),
    ]
)
