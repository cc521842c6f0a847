import Foundation
import Testing
import TestSupport

extension Acceptance {
    /// Every refused request gets a Kubernetes `Status` with the right reason and code, and leaves
    /// no event in the journal.
    @Suite struct APIErrorTests {
        static func pod(_ name: String, extra: String = "") -> String {
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)"},"spec":{"containers":[{"name":"c","image":"nginx"}]\#(extra)}}"#
        }

        func status(_ body: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
        }

        func expectStatus(_ answer: (code: Int, body: String), _ code: Int, _ reason: String, containing text: String? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(answer.code == code, "\(answer.body)", sourceLocation: sourceLocation)
            let s = try status(answer.body)
            #expect(s["kind"] as? String == "Status", sourceLocation: sourceLocation)
            #expect(s["reason"] as? String == reason, "\(answer.body)", sourceLocation: sourceLocation)
            #expect(s["code"] as? Int == code, sourceLocation: sourceLocation)
            if let text { #expect((s["message"] as? String ?? "").contains(text), "\(answer.body)", sourceLocation: sourceLocation) }
        }

        @Test func refusedRequestsAreStatusObjectsAndWriteNothing() throws {
            let cluster = try ServedCluster(withViewer: true)
            let admin = cluster.adminToken, pods = "/api/v1/namespaces/default/pods"

            try expectStatus(try cluster.curl("GET", pods, token: nil), 401, "Unauthorized")
            try expectStatus(try cluster.curl("GET", pods, token: "wrong"), 401, "Unauthorized")
            #expect(try cluster.curl("GET", pods, token: cluster.viewerToken).code == 200)
            try expectStatus(try cluster.curl("POST", pods, token: cluster.viewerToken, body: Self.pod("v")), 403, "Forbidden",
                             containing: "User \"viewer\" cannot create resource \"pods\"")

            try expectStatus(try cluster.curl("GET", pods + "/missing", token: admin), 404, "NotFound", containing: "pods \"missing\" not found")
            try expectStatus(try cluster.curl("GET", "/api/v1/widgets", token: admin), 404, "NotFound")

            let created = try cluster.curl("POST", pods, token: admin, body: Self.pod("dup"))
            #expect(created.code == 201, "\(created.body)")
            let rv = try #require((try status(created.body)["metadata"] as? [String: Any])?["resourceVersion"] as? String)
            try expectStatus(try cluster.curl("POST", pods, token: admin, body: Self.pod("dup")), 409, "AlreadyExists", containing: "already exists")

            // An update from a stale resourceVersion: the scheduler and kubelet have written the pod since.
            _ = try cluster.eventually(30, "the pod to be bound") {
                try cluster.curl("GET", pods + "/dup", token: admin).body.contains("nodeName")
            }
            let stale = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup","resourceVersion":"\#(rv)","labels":{"x":"y"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
            try expectStatus(try cluster.curl("PUT", pods + "/dup", token: admin, body: stale), 409, "Conflict", containing: "the object has been modified")

            try expectStatus(try cluster.curl("POST", pods, token: admin, body: Self.pod("Bad_Name")), 422, "Invalid",
                             containing: #"Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name""#)
            try expectStatus(try cluster.curl("POST", pods, token: admin, body: #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": }"#),
                             400, "BadRequest", containing: "line 1, column")
            try expectStatus(try cluster.curl("POST", pods, token: admin, contentType: "application/yaml", body: "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n"),
                             400, "BadRequest", containing: "line")
            try expectStatus(try cluster.curl("POST", pods + "?fieldValidation=Strict", token: admin, body: Self.pod("strict", extra: #","bogus":1"#)),
                             400, "BadRequest", containing: "unknown field \"spec.bogus\"")
            try expectStatus(try cluster.curl("PATCH", pods + "/dup", token: admin, contentType: "text/plain", body: "{}"), 415, "UnsupportedMediaType")

            let big = cluster.directory.sub("big.json")
            try Self.pod("big", extra: #","padding":""# + String(repeating: "x", count: 3 * 1024 * 1024) + #"""#).write(toFile: big, atomically: true, encoding: .utf8)
            try expectStatus(try cluster.curl("POST", pods, token: admin, bodyFile: big), 413, "RequestEntityTooLarge")

            let dryRun = try cluster.curl("POST", pods + "?dryRun=All", token: admin, body: Self.pod("dry"))
            #expect(dryRun.code == 201, "\(dryRun.body)")

            // The journal holds exactly the one accepted create by a user: nothing refused, nothing dry-run.
            let userEvents = try cluster.kj(["events", "--actor", "user", "-o", "json"])
            let events = try #require(try JSONSerialization.jsonObject(with: Data(userEvents.stdout.utf8)) as? [[String: Any]])
            #expect(events.map { $0["object"] as? String } == ["Pod/default/dup"], "\(userEvents.stdout)")
            #expect(events.first?["actor"] as? String == "user/admin")
            #expect(cluster.stop() == 0)
        }

        /// Content types, query parameters and DeleteOptions are checked as kube-apiserver checks them,
        /// with its messages; a refused request changes nothing.
        @Test func optionsAndContentTypesAreCheckedAsKubernetesChecksThem() throws {
            let cluster = try ServedCluster()
            let admin = cluster.adminToken, pods = "/api/v1/namespaces/default/pods"
            #expect(try cluster.curl("POST", pods, token: admin, body: Self.pod("kept")).code == 201)

            try expectStatus(try cluster.curl("POST", pods, token: admin, contentType: "text/plain", body: Self.pod("plain")), 415, "UnsupportedMediaType",
                             containing: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
            try expectStatus(try cluster.curl("DELETE", pods + "/kept", token: admin, body: "[1]"), 400, "BadRequest",
                             containing: "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct")
            try expectStatus(try cluster.curl("DELETE", pods + "/kept", token: admin, body: #"{"propagationPolicy":"Sideways"}"#), 422, "Invalid",
                             containing: #"DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil""#)
            try expectStatus(try cluster.curl("DELETE", pods + "/kept", token: admin, body: #"{"dryRun":["Sometimes"]}"#), 422, "Invalid",
                             containing: #"dryRun: Unsupported value: ["Sometimes"]: supported values: "All""#)
            try expectStatus(try cluster.curl("DELETE", pods + "/kept", token: admin, body: #"{"gracePeriodSeconds":"soon"}"#), 400, "BadRequest",
                             containing: "json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64")
            try expectStatus(try cluster.curl("DELETE", pods + "/kept?gracePeriodSeconds=soon", token: admin), 400, "BadRequest",
                             containing: #"strconv.ParseInt: parsing "soon": invalid syntax"#)
            try expectStatus(try cluster.curl("POST", pods + "?dryRun=Sometimes", token: admin, body: Self.pod("maybe")), 422, "Invalid",
                             containing: #"CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Sometimes"]: supported values: "All""#)
            try expectStatus(try cluster.curl("POST", pods + "?fieldValidation=Loose", token: admin, body: Self.pod("loose")), 422, "Invalid",
                             containing: #"fieldValidation: Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn""#)

            try expectStatus(try cluster.curl("GET", pods + "?resourceVersion=abc&resourceVersionMatch=Exact", token: admin), 400, "BadRequest",
                             containing: #"invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax"#)
            try expectStatus(try cluster.curl("GET", pods + "?resourceVersionMatch=Exact", token: admin), 422, "Invalid",
                             containing: #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"#)
            try expectStatus(try cluster.curl("GET", pods + "?watch=1&resourceVersion=abc", token: admin), 422, "Invalid",
                             containing: #"pods "" is invalid: resourceVersion: Invalid value: "abc""#)
            try expectStatus(try cluster.curl("GET", pods + "?limit=abc", token: admin), 400, "BadRequest", containing: #"strconv.ParseInt: parsing "abc": invalid syntax"#)
            try expectStatus(try cluster.curl("GET", pods + "?watch=1&timeoutSeconds=soon", token: admin), 400, "BadRequest", containing: "strconv.ParseInt")
            // A negative limit is no limit, as in Kubernetes.
            let all = try cluster.curl("GET", pods + "?limit=-1", token: admin)
            #expect(all.code == 200 && all.body.contains(#""name":"kept""#), "\(all.body)")

            // Nothing refused reached the journal: the one pod is still there and was the only write.
            #expect(try cluster.curl("GET", pods + "/kept", token: admin).code == 200)
            let userEvents = try cluster.kj(["events", "--actor", "user", "-o", "json"])
            let events = try #require(try JSONSerialization.jsonObject(with: Data(userEvents.stdout.utf8)) as? [[String: Any]])
            #expect(events.map { $0["object"] as? String } == ["Pod/default/kept"], "\(userEvents.stdout)")
        }

        @Test func writingAroundTheServerIsRefused() throws {
            let cluster = try ServedCluster()
            let manifest = cluster.directory.sub("pod.yaml")
            try "apiVersion: v1\nkind: Pod\nmetadata: {name: around}\nspec: {containers: [{name: c, image: nginx}]}\n".write(toFile: manifest, atomically: true, encoding: .utf8)
            let apply = try cluster.kj(["apply", "-f", manifest])
            #expect(apply.status != 0)
            #expect(apply.stderr.contains("is served by kj serve (\(cluster.url)"), "\(apply.stderr)")
            // Reading directly stays possible.
            #expect(try cluster.kj(["get", "nodes"]).status == 0)
            cluster.stop()
            #expect(try cluster.kj(["apply", "-f", manifest]).status == 0, "after the server stops, kj apply writes again")
        }
    }
}
