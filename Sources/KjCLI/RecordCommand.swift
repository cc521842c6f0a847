import APIServer
import ArgumentParser
import ClusterClient
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Logging
import Recorder
import ServiceLifecycle

/// `kj record`: a live Kubernetes API server, listed and watched into a journal.
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a live Kubernetes API server into a journal by listing and watching it.",
        discussion: """
            Lists each kind and watches it from the list's resourceVersion, as client-go's informers do: \
            a watch that ends is opened again from the last resourceVersion seen; one the server no \
            longer holds (410 Gone) is replaced by a new list, whose differences are journalled (objects \
            gone from it as deleted while unseen); other failures are retried with a back-off. Every \
            change is journalled when it is seen, with the object's resourceVersion as the event's \
            request (rv:N). A watch does not say who made a change: the actor is the field manager \
            of the object's newest managedFields entry, or unknown/watch. Recording into a journal \
            kj record made before carries on from the newest resourceVersion it holds. Stops on \
            SIGINT or SIGTERM.
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("The kubeconfig (default: $KUBECONFIG, else ~/.kube/config).", valueName: "file")) var kubeconfig: String?
    @Option(help: ArgumentHelp("The kubeconfig's context to use (default: its current context).", valueName: "name")) var context: String?
    @Option(help: ArgumentHelp("Kinds to record, comma-separated (pods,nodes,deployments …; default: every kind KubeJournal models).",
                               valueName: "kinds")) var kinds: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "warning"

    func run() async throws {
        let selected = try Self.kinds(kinds)
        let connection: Connection
        do {
            connection = try ClusterClient.Kubeconfig.load(kubeconfig).connection(context: context)
        } catch {
            throw CLIError("\(error)")
        }
        let path = (location.path as NSString).standardizingPath
        let journal = try Self.open(path, server: connection.server)
        defer { journal.close() }
        // A watch and a list of every kind may be open at once.
        let client = try KubeClient(connection, connections: 2 * selected.count + 2)
        var logger = Logger(label: "kj.record") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let recorder = Recorder(client: client, journal: journal, configuration: Recorder.Configuration(kinds: selected), clock: WallClock(),
                                logger: logger) { kind, rv, items, reason in
            Self.say("listed \(kind.plural) at resourceVersion \(rv): \(items) object(s) (\(reason))")
        }
        Self.say("kj record: recording \(client.server) into \(path) (\(selected.count) kind(s))")
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [recorder], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await client.shutdown()
            throw CLIError("kj record: \(error)")
        }
        await client.shutdown()
        Self.say("kj record: stopped at revision \(try journal.head().revision)")
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func kinds(_ list: String?) throws -> [ResourceKind] {
        guard let list else { return ResourceKind.allCases }
        return try list.split(separator: ",").map { name in
            guard let kind = ResourceKind(resource: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--kinds: \(name) is not a kind KubeJournal models (kj get --help lists them)")
            }
            return kind
        }
    }

    /// The journal to record into: a new one (marked as recorded from `server`), or one `kj
    /// record` made before.
    static func open(_ path: String, server: String) throws -> Journal {
        if let holder = ServeLock.holder(journal: path) {
            throw CLIError("the journal at \(path) is served by kj serve (\(holder)); record into another directory")
        }
        let existed = try JournalImport.holdsJournal(path, verb: "record")
        let journal = try Journal.open(at: path)
        do {
            if existed {
                try journal.read { try JournalImport.requireSource(JournalSource.watch, of: $0, at: path, refusal: "kj record did not make; record into a new directory") }
            } else {
                _ = try journal.appendSynchronously([JournalImport.initialized(from: JournalSource.watch, seed: AuditJournal.seed(server), at: WallClock().now())])
            }
        } catch {
            journal.close()
            throw error
        }
        return journal
    }
}
