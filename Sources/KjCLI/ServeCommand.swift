import APIServer
import ArgumentParser
import Foundation
import Logging
import NodeAgent
import Simulation

/// `kj serve`: the Kubernetes API on a journal, for kubectl and other clients.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Kubernetes API on a journal: kubectl and client libraries work against it, and every write is an event.",
        discussion: """
            The server is the journal's single writer; the scheduler, the controllers and simulated \
            kubelets for the cluster's nodes run in the same process on the wall clock. On first \
            start it makes an admin token (tokens.csv beside the journal) and writes a kubeconfig \
            (kj kubeconfig prints it). Requests need a bearer token; members of the group \
            kubejournal:viewers may only read. SIGINT or SIGTERM stops it cleanly: watches end and \
            the last commit is durable. kj query commands keep reading the journal directly.
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("Address to listen on (port 0: any free port).", valueName: "host:port")) var listen = "127.0.0.1:6443"
    @Option(help: "Simulate this many nodes (node-1 … node-N, 4 CPUs and 8Gi each).") var nodes: Int?
    @Option(help: ArgumentHelp("Take the nodes from a scenario file's cluster section (replay/*.yaml).", valueName: "file")) var cluster: String?
    @Option(help: ArgumentHelp("A static token file (token,user,uid,\"group1,group2\") instead of the one kept beside the journal.", valueName: "file"))
    var tokenFile: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func validate() throws {
        if nodes != nil, cluster != nil { throw ValidationError("give --nodes or --cluster, not both") }
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be at least 1") }
    }

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw CLIError("--listen wants host:port, e.g. 127.0.0.1:6443")
        }
        let host = String(listen[..<colon])
        let clusterNodes: [SimulatedNode]
        if let cluster {
            guard let data = FileManager.default.contents(atPath: cluster) else { throw CLIError("cannot read \(cluster)") }
            clusterNodes = try Scenario(yaml: String(decoding: data, as: UTF8.self)).nodes
        } else {
            clusterNodes = ServeConfiguration.defaultNodes(nodes ?? 3)
        }
        var logger = Logger(label: "kj.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let config = ServeConfiguration(journalPath: location.path, host: host, port: port, nodes: clusterNodes, tokenFile: tokenFile)
        let journalPath = location.path
        try await KubeServer.run(config, logger: logger) { url, kubeconfig in
            var text = "kj serve: listening on \(url) (journal \(journalPath), \(clusterNodes.count) node(s))\n"
            if let kubeconfig { text += "kubeconfig: \(kubeconfig)   (export KUBECONFIG=\(kubeconfig))\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        print("kj serve: stopped")
    }
}

/// `kj kubeconfig`: the kubeconfig `kj serve` wrote for a journal.
struct Kubeconfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the kubeconfig kj serve wrote for the journal (its admin token and the address it last listened on).")

    @OptionGroup var location: JournalLocation
    @Flag(help: "Print only the file's path.") var path = false

    func run() throws {
        let file = ServeFiles(journal: location.path).kubeconfig
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("no kubeconfig at \(file): start kj serve on this journal first")
        }
        print(path ? file : String(decoding: data, as: UTF8.self), terminator: path ? "\n" : "")
    }
}
