import ArgumentParser
import Foundation

/// The CLI reference in `docs/cli.md`, generated from the commands' own help so it cannot drift
/// (a test compares the file with this output).
enum CLIReference {
    static func markdown() -> String {
        var out = """
            # kj command reference

            Generated from `kj --help` of every command by `swift run kj dev cli-reference > docs/cli.md`;
            a test fails when this file and the commands disagree. For a guided tour see
            [getting started](getting-started.md).

            """
        for (path, command) in visible(Kj.self, path: ["kj"]) {
            out += "\n## \(path.joined(separator: " "))\n\n```text\n"
            out += Kj.helpMessage(for: command, columns: 100).trimmingCharacters(in: .newlines)
            out += "\n```\n"
        }
        return out
    }

    /// Every command that help shows, depth first, in declaration order.
    static func visible(_ command: ParsableCommand.Type, path: [String]) -> [([String], ParsableCommand.Type)] {
        var result = [(path, command)]
        for sub in command.configuration.subcommands where sub.configuration.shouldDisplay {
            let name = sub.configuration.commandName ?? sub._commandName
            result += visible(sub, path: path + [name])
        }
        return result
    }
}
