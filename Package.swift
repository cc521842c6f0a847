// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "KubeJournal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kj", targets: ["kj"]),
        .library(name: "Journal", targets: ["Journal"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // liblmdb from the system (Debian: liblmdb-dev).
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
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
        // ReplicaSet, Deployment, Endpoints, NodeLifecycle and garbage collection.
        .target(name: "Controllers", dependencies: ["ControlPlane", "ClusterModel", "Journal"]),
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
            ]
        ),
        // Answers from the journal: object histories, why a pod is where it is, diffs between revisions.
        .target(name: "Queries", dependencies: ["Journal", "ClusterModel", "ControlPlane", "Scheduler"]),
        .target(
            name: "KjCLI",
            dependencies: [
                "Journal",
                "ClusterModel",
                "ControlPlane",
                "Scheduler",
                "Simulation",
                "Queries",
                "CLMDBBaseline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "kj", dependencies: ["KjCLI"]),
        // Helpers shared by the test targets: temporary directories, the built `kj`, seeded randomness.
        .target(name: "TestSupport", dependencies: ["Journal"], path: "Tests/TestSupport"),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "CLMDB", "TestSupport", "kj"]),
        .testTarget(name: "ClusterModelTests", dependencies: ["ClusterModel", "TestSupport"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "ControlPlane", "ClusterModel", "TestSupport"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "ClusterModel"]),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "Simulation", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Scheduler", "ControlPlane", "ClusterModel", "Journal", "TestSupport"]),
        .testTarget(name: "QueriesTests", dependencies: ["Queries", "Journal", "ClusterModel", "TestSupport", "kj"]),
        .testTarget(name: "KjCLITests", dependencies: ["KjCLI", "Journal", "TestSupport", "kj"]),
    ]
)
