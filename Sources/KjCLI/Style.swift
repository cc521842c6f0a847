import ArgumentParser
import ClusterModel
import Foundation
import Journal

/// Colour for people: only when standard output is a terminal and `NO_COLOR` is not set.
enum Style {
    static let enabled: Bool = {
        let env = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) == 1 && (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
    }()

    static func bold(_ s: String) -> String { wrap(s, "1") }
    static func dim(_ s: String) -> String { wrap(s, "2") }
    static func green(_ s: String) -> String { wrap(s, "32") }
    static func yellow(_ s: String) -> String { wrap(s, "33") }
    static func red(_ s: String) -> String { wrap(s, "31") }
    static func cyan(_ s: String) -> String { wrap(s, "36") }

    private static func wrap(_ s: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}

/// `-o table|json|yaml`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml
}

/// Prints `value` as pretty JSON or YAML (the data the table shows, for scripts).
func printData<T: Encodable>(_ value: T, as format: ReportFormat) throws {
    switch format {
    case .json: print(try jsonText(value))
    case .yaml: print(try ValueEncoder().encode(value).yaml(), terminator: "")
    case .table: break
    }
}

/// `KIND/NAME`: a kind as kubectl names it (pod, pods, po, deployment …) and a name.
struct ObjectName: ExpressibleByArgument {
    let kind: ResourceKind
    let name: String

    init?(argument: String) {
        let parts = argument.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty, let kind = ResourceKind(resource: parts[0]) else { return nil }
        self.kind = kind
        self.name = parts[1]
    }

    /// The object's key in `namespace` (ignored for cluster-scoped kinds).
    func key(namespace: String?) -> ObjectKey {
        ObjectKey(kind: kind.rawValue, namespace: kind.namespaced ? (namespace ?? "default") : "", name: name)
    }

    static let help = ArgumentHelp("The object, as kind/name (pod/nginx, deployment/web, node/node-1).", valueName: "kind/name")
}

/// `10:00:05.250` (UTC) from an RFC 3339 time, for tables whose header gives the date.
func clockTime(_ rfc3339: String) -> String {
    guard let t = rfc3339.firstIndex(of: "T") else { return rfc3339 }
    let s = rfc3339[rfc3339.index(after: t)...].replacingOccurrences(of: "Z", with: "")
    return s.hasSuffix(".000000") ? String(s.dropLast(7)) : s
}

/// kubectl's relative age (`5m12s`) of `rfc3339` as seen at `now`.
func age(_ rfc3339: String, now: Timestamp) -> String {
    guard let t = Timestamp(rfc3339: rfc3339) else { return "?" }
    return ResourceTable.humanDuration(seconds: max(0, (now.microseconds - t.microseconds) / 1_000_000))
}
