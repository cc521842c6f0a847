import ArgumentParser
import CEditLine
import Foundation
import Journal

/// `kj debug`: step through a journal like a program in gdb or rr.
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "A time-travel debugger for the cluster: step through the journal forward and backward, stop at breakpoints, and ask kj's questions at any point.",
        discussion: """
            Starts at the journal's first event. On a terminal it has line editing and a history \
            (libedit); piped, it reads one command per line from standard input and prints only the \
            answers. Each command reads the journal as it is then, so it follows a journal kj serve \
            is writing. "help" lists the commands: step, back, next, prev, goto, break, continue, \
            reverse-continue, delete, info breakpoints, where, diff, get, describe, why, history, \
            events, follow, quit.
            """)

    @OptionGroup var location: JournalLocation
    @Option(help: ArgumentHelp("Start here instead of at the first event (a revision, a time or -5m).", valueName: "point")) var at: String?

    func run() async throws {
        let journal = try location.openReadOnly()
        defer { journal.close() }
        guard try journal.head().revision > 0 else { throw CLIError("the journal at \(location.path) has no events to step through") }
        let debugger = Debugger(path: location.path, journal: journal) { print($0) }
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive {
            print("kj debug on \(location.path): \(try journal.head().revision) events. \"help\" lists the commands.")
        }
        _ = await debugger.execute("goto \(at ?? "start")")
        let reader = CommandLineReader(interactive: interactive)
        while let line = reader.next(prompt: "(kj) ") {
            guard await debugger.execute(line) else { break }
            fflush(nil)
        }
    }
}

/// Input lines: libedit's readline with history on a terminal, plain lines otherwise.
struct CommandLineReader {
    let interactive: Bool

    init(interactive: Bool) {
        self.interactive = interactive
        if interactive { using_history() }
    }

    func next(prompt: String) -> String? {
        guard interactive else { return readLine(strippingNewline: true) }
        guard let raw = readline(prompt) else {
            print("")
            return nil
        }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
        return line
    }
}
