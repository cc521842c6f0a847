import ArgumentParser
import Foundation
import Journal

/// `kj dev …`: tools for testing kj itself (hidden from help).
struct DevTools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Tools for testing kj itself.",
        shouldDisplay: false,
        subcommands: [AppendLoop.self, CLIReferenceCommand.self]
    )

    /// Appends synthetic events forever (or `--count` times) from several concurrent writers and
    /// prints every acknowledged revision, one per line, as soon as its append returns. The
    /// crash-safety test kills it at random moments and checks that every printed revision survived.
    struct AppendLoop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "append-loop")

        @OptionGroup var location: JournalLocation
        @Option(help: "Concurrent writers.") var writers = 4
        @Option(help: "Stop after this many appends per writer (default: never).") var count: Int?
        @Option(help: "Initial map size of a new journal, in MiB.") var initialMapMib = 64
        @Flag(help: "Do not sync commits (tests only).") var noSync = false

        func run() async throws {
            let journal = try Journal.open(
                at: location.path,
                options: JournalOptions(initialMapSize: initialMapMib << 20, durability: noSync ? .noSync : .sync))
            defer { journal.close() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        var i = 0
                        while count.map({ i < $0 }) ?? true {
                            let size = (w + i) % 7 + 1
                            let drafts = (0..<size).map { JournalBench.draft(w * 1_000_000 + i * 8 + $0) }
                            let events = try await journal.append(drafts)
                            let text = events.map { "\($0.revision)\n" }.joined()
                            text.withCString { _ = write(STDOUT_FILENO, $0, strlen($0)) }
                            i += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Prints `docs/cli.md`.
    struct CLIReferenceCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cli-reference")

        func run() {
            print(CLIReference.markdown(), terminator: "")
        }
    }
}
