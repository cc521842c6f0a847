import ArgumentParser

/// The root `kj` command.
public struct Kj: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kj",
        abstract: "KubeJournal: a Kubernetes-style control plane whose every write is an event in a journal.",
        discussion: """
            The journal is the only source of truth: cluster state, history and explanations are all \
            derived from it. Commands that take --journal default to $KJ_JOURNAL, else \
            ${XDG_DATA_HOME:-$HOME/.local/share}/kubejournal/journal.
            """,
        version: "0.1.0",
        subcommands: [DevTools.self],
        groupedSubcommands: [
            CommandGroup(name: "Getting started", subcommands: [Demo.self]),
            CommandGroup(name: "Cluster", subcommands: [Serve.self, Kubeconfig.self, Get.self, Describe.self, Apply.self, Delete.self]),
            CommandGroup(name: "Staging an incident", subcommands: [FaultCommand.self, NodeCommand.self]),
            CommandGroup(name: "Asking the journal", subcommands: [Why.self, History.self, Events.self, Diff.self, DebugCommand.self]),
            CommandGroup(name: "Simulation and replay", subcommands: [Simulate.self, ReplayCommand.self]),
            CommandGroup(name: "Journal", subcommands: [JournalCommand.self, ImportCommand.self, Record.self]),
            CommandGroup(name: "Measuring", subcommands: [Bench.self]),
        ]
    )

    public init() {}
}
