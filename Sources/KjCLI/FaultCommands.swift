import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import Foundation

/// `kj fault …`: stage an incident on a live `kj serve` — a node crashes, is cut off, comes back;
/// a container dies. Each is journalled (`FaultInjected`, with you as the actor) before the
/// simulated kubelets act on it.
struct FaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract: "Stage an incident on a live kj serve: crash, partition, recover or heal a node; kill a container.",
        discussion: "The server is --server, else the kubeconfig's current context (kj kubeconfig prints kj serve's). Writers only: viewers are refused.",
        subcommands: [Crash.self, Recover.self, Partition.self, Heal.self, Kill.self])

    struct Crash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The node stops: no heartbeats, its containers gone.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node.") var node: String
        func run() async throws { try await remote.inject(["fault": "crash", "node": .string(node)]) }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A crashed node comes back and starts its pods again.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node.") var node: String
        func run() async throws { try await remote.inject(["fault": "recover", "node": .string(node)]) }
    }

    struct Partition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The node can no longer reach the API server: no heartbeats, its containers run on unseen.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node.") var node: String
        func run() async throws { try await remote.inject(["fault": "partition", "node": .string(node)]) }
    }

    struct Heal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A partitioned node reaches the API server again.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node.") var node: String
        func run() async throws { try await remote.inject(["fault": "heal", "node": .string(node)]) }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A container of a running pod exits (137: killed, as by the OOM killer); its restartPolicy decides what follows.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: ArgumentHelp("The pod, as pod/NAME.", valueName: "pod/name")) var pod: ObjectName
        @Option(name: .shortAndLong, help: "The namespace (default: default).") var namespace: String?
        @Option(help: "The container (default: the pod's first).") var container: String?
        @Option(help: "The exit code, 0–255.") var exitCode: Int32 = 137

        func validate() throws {
            guard pod.kind == .pod else { throw ValidationError("kj fault kill takes a pod (pod/NAME)") }
            guard (0...255).contains(exitCode) else { throw ValidationError("--exit-code must be between 0 and 255") }
        }

        func run() async throws {
            var body: [String: JSONValue] = ["fault": "kill", "namespace": .string(namespace ?? "default"), "pod": .string(pod.name),
                                             "exitCode": .int(Int64(exitCode))]
            if let container { body["container"] = .string(container) }
            try await remote.inject(.object(body))
        }
    }
}

/// `kj node add|remove`: capacity on a live `kj serve`, as simulated kubelets that come and go.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Add a simulated node to a live kj serve, or stop one's kubelet.",
        subcommands: [Add.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a simulated kubelet that registers a new Node.")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node's name.") var node: String
        @Option(help: ArgumentHelp("CPUs (a quantity).", valueName: "quantity")) var cpu = "4"
        @Option(help: ArgumentHelp("Memory (a quantity).", valueName: "quantity")) var memory = "8Gi"
        @Option(help: "Pods the node takes at most.") var pods = 110
        @Option(help: ArgumentHelp("A label, key=value (repeatable).", valueName: "key=value")) var label: [String] = []
        @Option(help: ArgumentHelp("A taint, key[=value]:Effect (repeatable).", valueName: "key=value:Effect")) var taint: [String] = []

        func run() async throws {
            var labels: [String: JSONValue] = [:]
            for l in label {
                let (key, value) = try parseLabel(l, option: "--label")
                labels[key] = .string(value)
            }
            let taints = try taint.map { try ValueEncoder().encode(try parseTaint($0, option: "--taint")) }
            try await remote.inject(["fault": "add-node", "node": .string(node),
                               "capacity": ["cpu": .string(cpu), "memory": .string(memory), "pods": .string(String(pods))],
                               "labels": .object(labels), "taints": .array(taints)])
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a simulated node's kubelet for good (the Node stays until deleted, as in Kubernetes).")
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The node.") var node: String
        func run() async throws { try await remote.inject(["fault": "remove-node", "node": .string(node)]) }
    }
}

/// `--server`/`--kubeconfig` for commands that act on a live `kj serve`.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The kj serve (https://HOST:PORT); default: the kubeconfig's current context.", valueName: "url")) var server: String?
    @Option(help: ArgumentHelp("The kubeconfig for the token, CA and (without --server) the server (default: $KUBECONFIG, else ~/.kube/config).",
                               valueName: "file"))
    var kubeconfig: String?

    /// Sends a fault to the server and prints what it journalled.
    func inject(_ body: JSONValue) async throws {
        let (status, answer, server) = try await JournalClient.with(server: server, kubeconfig: kubeconfig) { client in
            let (status, answer) = try await client.post("/kj/v1/faults", json: Array(body.serialized()))
            return (status, answer, client.baseURL)
        }
        let json = try? JSONValue.parse(answer)
        guard status == 201 else { throw CLIError(json?["message"]?.stringValue ?? "\(server) answered \(status)") }
        let revision = json?["revision"]?.intValue ?? 0
        print("\(body["fault"]?.stringValue ?? "fault") journalled at revision \(revision) by \(json?["actor"]?.stringValue ?? "?")")
    }
}
