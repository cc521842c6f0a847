import ArgumentParser
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Queries

/// The time-travel debugger behind `kj debug`: a position in the journal that moves one event at a
/// time or to a point, breakpoints, and kj's queries at the position. Reads the journal afresh for
/// every command, so it follows a journal a server is still writing.
final class Debugger {
    let path: String
    let journal: Journal
    /// The revision the debugger stands at (its event has happened).
    private(set) var position: UInt64 = 1
    /// Where it stood before the last move (what `diff` compares with).
    private var lastStop: UInt64 = 1
    private var breakpoints: [(id: Int, breakpoint: TimeTravel.Breakpoint)] = []
    private var nextID = 1
    private let write: (String) -> Void

    init(path: String, journal: Journal, write: @escaping (String) -> Void) {
        self.path = path
        self.journal = journal
        self.write = write
    }

    /// One command of the debugger's language.
    struct Command {
        var names: [String]
        var usage: String
        var help: String
    }

    static let commands: [Command] = [
        Command(names: ["step", "s"], usage: "step [N]", help: "Move N events forward (default 1); print each with the fields it changed."),
        Command(names: ["back", "reverse-step", "rs"], usage: "back [N]", help: "Move N events backward (default 1)."),
        Command(names: ["next", "n"], usage: "next", help: "Move to the next event about the current event's object."),
        Command(names: ["prev", "reverse-next", "rn"], usage: "prev", help: "Move to the previous event about the current event's object."),
        Command(names: ["goto", "g"], usage: "goto REV|TIME|-5m|+30s|start|head",
                help: "Move to a revision, an RFC 3339 time (the last event at or before it), a duration before or after the current event's time, the first event or the last."),
        Command(names: ["break", "b"], usage: "break KIND/NAME | type=TYPE | actor=ACTOR | field=PATH",
                help: "Stop continue at events about an object (pod/web, node/node-2, deployment/NAMESPACE/NAME), of a type (SchedulingDecided), by an actor (node-lifecycle, kubelet/node-1), or at writes that change a field of the current event's object (status.phase)."),
        Command(names: ["continue", "c"], usage: "continue", help: "Move forward to the next event a breakpoint stops at."),
        Command(names: ["reverse-continue", "rc"], usage: "reverse-continue", help: "Move backward to the previous event a breakpoint stops at."),
        Command(names: ["delete", "d"], usage: "delete [N]", help: "Delete breakpoint N (all without N)."),
        Command(names: ["info"], usage: "info breakpoints", help: "List the breakpoints."),
        Command(names: ["where", "w", "bt"], usage: "where", help: "The position: revision, time, the event and the chain of causes behind it."),
        Command(names: ["diff"], usage: "diff", help: "What changed in the cluster between the previous stop and this one."),
        Command(names: ["get"], usage: "get KIND [NAME] [kj get options]", help: "kj get, as of the current event."),
        Command(names: ["describe"], usage: "describe KIND/NAME", help: "kj describe, as of the current event."),
        Command(names: ["why"], usage: "why pod/NAME", help: "kj why, as of the current event."),
        Command(names: ["history"], usage: "history KIND/NAME", help: "kj history, up to the current event."),
        Command(names: ["events"], usage: "events [kj events options]", help: "kj events, up to the current event."),
        Command(names: ["follow"], usage: "follow", help: "Wait at the head for new events until a breakpoint stops at one (a journal a server is writing)."),
        Command(names: ["help", "h", "?"], usage: "help [COMMAND]", help: "This list, or one command's help."),
        Command(names: ["quit", "q", "exit"], usage: "quit", help: "Leave the debugger."),
    ]

    static func command(named word: String) -> Command? { commands.first { $0.names.contains(word) } }

    /// Runs one input line; returns false when the debugger should end.
    func execute(_ line: String) async -> Bool {
        let words = Self.split(line)
        guard let word = words.first else { return true }
        let args = Array(words.dropFirst())
        guard let command = Self.command(named: word) else {
            write("Unknown command \"\(word)\". Try \"help\".")
            return true
        }
        do {
            switch command.names[0] {
            case "step": try move(by: try count(args), forward: true)
            case "back": try move(by: try count(args), forward: false)
            case "next": try nextAboutObject(forward: true)
            case "prev": try nextAboutObject(forward: false)
            case "goto": try goto(args)
            case "break": try addBreakpoint(args)
            case "continue": try resume(backward: false)
            case "reverse-continue": try resume(backward: true)
            case "delete": try deleteBreakpoint(args)
            case "info": try info(args)
            case "where": try whereAmI()
            case "diff": try diff()
            case "get", "describe", "why", "history", "events": try await runQuery(command.names[0], args)
            case "follow": try await follow()
            case "help": help(args)
            default: return false
            }
        } catch {
            write("Error: \(error)")
        }
        return true
    }

    // MARK: moving

    private func count(_ args: [String]) throws -> UInt64 {
        guard let a = args.first else { return 1 }
        guard let n = UInt64(a), n > 0 else { throw CLIError("a count is a positive whole number, got \(a)") }
        return n
    }

    private func head(_ view: JournalView) throws -> UInt64 { try view.head().revision }

    private func moveTo(_ revision: UInt64) {
        lastStop = position
        position = revision
    }

    private func move(by n: UInt64, forward: Bool) throws {
        try journal.read { view in
            let head = try head(view)
            let target = forward ? min(head, position + n) : (position > n ? position - n : 1)
            if target == position {
                write(forward ? "At the head (revision \(head)): no later event yet." : "At the first event (revision 1).")
                return
            }
            lastStop = position
            // Each event passed is shown when stepping forward; backward, only where it lands.
            if forward, n <= 50 {
                for e in try view.events(in: (position + 1)...target) { try show(e, in: view) }
            } else if let e = try view.event(at: target) {
                try show(e, in: view)
            }
            position = target
        }
    }

    private func nextAboutObject(forward: Bool) throws {
        try journal.read { view in
            guard let current = try view.event(at: position) else { return }
            let key = current.object.key
            let revisions = try view.history(of: key)
            guard let r = forward ? revisions.first(where: { $0 > position }) : revisions.last(where: { $0 < position }) else {
                write(forward ? "No later event about \(key)." : "No earlier event about \(key).")
                return
            }
            moveTo(r)
            try show(try view.event(at: r)!, in: view)
        }
    }

    private func goto(_ args: [String]) throws {
        guard let text = args.first else { throw CLIError("goto needs a point: a revision, a time, -5m or +30s, start or head") }
        try journal.read { view in
            let head = try head(view)
            let target: UInt64
            switch text {
            case "start": target = 1
            case "head", "end": target = head
            default:
                if text.hasPrefix("+") || text.hasPrefix("-"), let micros = PointInTime.duration(String(text.dropFirst())) {
                    let here = try view.event(at: position)?.time ?? Timestamp(microseconds: 0)
                    let t = here.adding(microseconds: text.hasPrefix("+") ? micros : -micros)
                    guard let r = try view.revision(atOrBefore: t) else { throw CLIError("\(text) is before the journal's first event") }
                    target = r
                } else {
                    guard let point = PointInTime(text) else { throw CLIError("not a revision, time or duration: \(text)") }
                    target = try point.revision(in: view)
                }
            }
            moveTo(target)
            try show(try view.event(at: target)!, in: view)
        }
    }

    // MARK: breakpoints

    private func addBreakpoint(_ args: [String]) throws {
        guard let spec = args.first else { throw CLIError("break needs KIND/NAME, type=TYPE, actor=ACTOR or field=PATH") }
        let b: TimeTravel.Breakpoint
        if spec.hasPrefix("type=") {
            b = .type(String(spec.dropFirst(5)))
        } else if spec.hasPrefix("actor=") {
            b = .actor(String(spec.dropFirst(6)))
        } else if spec.hasPrefix("field=") {
            let key = try journal.read { try $0.event(at: position)?.object.key }
            guard let key, ResourceKind(rawValue: key.kind) != nil else { throw CLIError("field= watches the current event's object, and this event is not about one") }
            b = .field(key, path: String(spec.dropFirst(6)))
        } else {
            b = .object(try Self.objectKey(spec))
        }
        breakpoints.append((nextID, b))
        write("Breakpoint \(nextID): \(b)")
        nextID += 1
    }

    /// `pod/web`, `pod/NAMESPACE/web`, `node/node-2`.
    static func objectKey(_ spec: String) throws -> ObjectKey {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let namespace = parts.count == 3 ? parts[1] : nil
        guard parts.count == 2 || parts.count == 3, let object = ObjectName(argument: "\(parts[0])/\(parts[parts.count - 1])") else {
            throw CLIError("expected KIND/NAME or KIND/NAMESPACE/NAME (pod/web), got \(spec)")
        }
        if namespace != nil, !object.kind.namespaced { throw CLIError("\(object.kind.plural) are not namespaced: \(parts[0])/NAME") }
        return object.key(namespace: namespace)
    }

    private func deleteBreakpoint(_ args: [String]) throws {
        guard let a = args.first else {
            write(breakpoints.isEmpty ? "No breakpoints." : "Deleted \(breakpoints.count) breakpoint(s).")
            breakpoints.removeAll()
            return
        }
        guard let id = Int(a), let i = breakpoints.firstIndex(where: { $0.id == id }) else { throw CLIError("no breakpoint \(a)") }
        breakpoints.remove(at: i)
        write("Deleted breakpoint \(id).")
    }

    private func info(_ args: [String]) throws {
        guard let what = args.first, "breakpoints".hasPrefix(what) else { throw CLIError("info breakpoints") }
        if breakpoints.isEmpty { return write("No breakpoints.") }
        write(TextTable.render(header: ["NUM", "STOPS AT"], rows: breakpoints.map { ["\($0.id)", $0.breakpoint.description] }).trimmingCharacters(in: .newlines))
    }

    private func resume(backward: Bool) throws {
        guard !breakpoints.isEmpty else { throw CLIError("no breakpoints: set one with break") }
        try journal.read { view in
            let head = try head(view)
            guard let (r, b) = try TimeTravel.search(from: position, backward: backward, head: head, breakpoints: breakpoints.map(\.breakpoint), in: view) else {
                write(backward ? "No breakpoint stops before revision \(position)." : "No breakpoint stops up to the head (revision \(head)); follow waits for new events.")
                return
            }
            let id = breakpoints.first { $0.breakpoint == b }!.id
            moveTo(r)
            write("Breakpoint \(id) (\(b)):")
            try show(try view.event(at: r)!, in: view)
        }
    }

    private func follow() async throws {
        guard !breakpoints.isEmpty else { throw CLIError("no breakpoints: follow waits for an event a breakpoint stops at") }
        while true {
            let seen = try journal.read { try head($0) }
            let hit = try journal.read { view in
                try TimeTravel.search(from: position, backward: false, head: seen, breakpoints: breakpoints.map(\.breakpoint), in: view)
            }
            if hit != nil { return try resume(backward: false) }
            position = max(position, seen)
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: showing

    private func show(_ e: Event, in view: JournalView) throws {
        let summary = EventSummary.line(for: e, data: (try? e.shownData()) ?? .null)
        var line = "→ \(e.revision)  \(e.time.rfc3339)  \(e.type)  \(e.actor)  \(e.object.key)  \(summary)"
        if let c = e.cause { line += "  ← \(c)" }
        write(line)
        guard e.type != WriteType.created.rawValue else { return }
        for c in try TimeTravel.changes(at: e, in: view) ?? [] { write("      \(c.description)") }
    }

    private func whereAmI() throws {
        try journal.read { view in
            let head = try head(view)
            guard let e = try view.event(at: position) else { return }
            write("Revision \(position) of \(head), at \(e.time.rfc3339).")
            try show(e, in: view)
            let chain = try TimeTravel.causes(of: position, in: view)
            if chain.isEmpty { return write("No cause recorded: an input from outside the control plane.") }
            write("Caused by:")
            for c in chain {
                write("  \(c.revision)  \(c.time.rfc3339)  \(c.type)  \(c.actor)  \(c.object.key)  \(EventSummary.line(for: c, data: (try? c.shownData()) ?? .null))")
            }
        }
    }

    private func diff() throws {
        let (from, to) = (min(lastStop, position), max(lastStop, position))
        let d = try journal.read { try StateDiff.between(from, to, in: $0) }
        write(Diff.render(d).trimmingCharacters(in: .newlines))
    }

    /// Runs kj's own query command at the position, in a child process of this same executable
    /// (which opens the journal read-only beside this one), writing to the same output.
    private func runQuery(_ name: String, _ args: [String]) async throws {
        let point = name == "events" ? ["--to", String(position)] : ["--at", String(position)]
        fflush(nil)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = [name] + args + ["--journal", path] + point
        child.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
        child.standardInput = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
    }

    private func help(_ args: [String]) {
        if let word = args.first {
            guard let c = Self.command(named: word) else { return write("Unknown command \"\(word)\".") }
            write("\(c.usage)\n    \(c.help)" + (c.names.count > 1 ? "\n    Also: \(c.names.dropFirst().joined(separator: ", "))." : ""))
            return
        }
        write("Commands (an empty line does nothing; each command reads the journal as it is now):")
        for c in Self.commands { write("  " + c.usage.padding(toLength: 46, withPad: " ", startingAt: 0) + " " + c.help.prefix { $0 != "." } + ".") }
    }

    /// Words of a command line; single or double quotes keep spaces in one word.
    static func split(_ line: String) -> [String] {
        var words: [String] = [], current = "", quote: Character?
        var inWord = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                inWord = true
            } else if ch.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
