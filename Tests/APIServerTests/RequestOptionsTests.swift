@testable import APIServer
import ClusterModel
import ControlPlane
import Foundation
import Journal
import Testing
import TestSupport

/// Query parameters and DeleteOptions read and checked as kube-apiserver reads and checks them.
@Suite struct RequestOptionsTests {
    static func request(_ target: String, method: String = "GET") -> APIRequest {
        let (path, query) = APIRequest.split(target: target)
        return APIRequest(method: method, path: path, query: query)
    }

    /// The Status a call is refused with, if it is.
    static func refusal(_ body: () throws -> Void) -> StatusError? {
        do { try body() } catch { return error as? StatusError }
        return nil
    }

    @Test func targetsSplitWithoutTrapping() {
        #expect(APIRequest.split(target: "/api/v1/pods?=").query == ["": ""])
        #expect(APIRequest.split(target: "/api/v1/pods?&=&=x&a").query == ["": "", "a": ""])
        #expect(APIRequest.split(target: "/p?limit=1&limit=2&l=a+b%21").query == ["limit": "1", "l": "a b!"])
    }

    @Test func numbersParseAsGoParsesThem() {
        #expect(Self.refusal { _ = try QueryParameter.int64("-5") } == nil)
        #expect(Self.refusal { _ = try QueryParameter.int64("abc") }?.message == #"strconv.ParseInt: parsing "abc": invalid syntax"#)
        #expect(Self.refusal { _ = try QueryParameter.int64("99999999999999999999") }?.message == #"strconv.ParseInt: parsing "99999999999999999999": value out of range"#)
        #expect(Self.refusal { _ = try QueryParameter.int64("") }?.status.code == 400)
        #expect(QueryParameter.bool("") && QueryParameter.bool("yes") && !QueryParameter.bool("0") && !QueryParameter.bool("False"))
    }

    @Test func listOptions() throws {
        #expect(Self.refusal { _ = try ListOptions(Self.request("/p?limit=x")) }?.status.code == 400)
        let both = Self.refusal { _ = try ListOptions(Self.request("/p?resourceVersionMatch=Exact&continue=abc")) }
        #expect(both?.status.code == 422)
        #expect(both?.message == #"ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided]"#)
        #expect(Self.refusal { _ = try ListOptions(Self.request("/p?resourceVersion=0&resourceVersionMatch=Exact")) }?.message
            == #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0""#)
        #expect(Self.refusal { _ = try ListOptions(Self.request("/p?watch=1&resourceVersionMatch=NotOlderThan")) }?.message
            == #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"#)

        let list = try ListOptions(Self.request("/p?resourceVersion=12x"))
        #expect(Self.refusal { _ = try list.revision(of: ResourceKind.pod) }?.message
            == #"invalid resource version: resourceVersion: Invalid value: "12x": strconv.ParseUint: parsing "12x": invalid syntax"#)
        let watch = try ListOptions(Self.request("/p?watch=true&resourceVersion=abc"))
        let invalid = Self.refusal { _ = try watch.revision(of: ResourceKind.deployment) }
        #expect(invalid?.status.code == 422)
        #expect(invalid?.message == #"deployments.apps "" is invalid: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax"#)
        #expect(try ListOptions(Self.request("/p?resourceVersion=0")).revision(of: ResourceKind.pod) == 0)
    }

    @Test func watchTimeouts() throws {
        #expect(try ListOptions(Self.request("/p?watch=1&timeoutSeconds=9223372036854775807")).watchTimeout(minimum: 1800) == Duration.seconds(Int64.max))
        #expect(try ListOptions(Self.request("/p?watch=1&timeoutSeconds=-3")).watchTimeout(minimum: 1800) == Duration.zero)
        for query in ["", "&timeoutSeconds=0"] {
            let spread = try ListOptions(Self.request("/p?watch=1" + query)).watchTimeout(minimum: 1800)
            #expect(spread >= .seconds(1800) && spread < .seconds(3600))
        }
    }

    @Test func deleteOptionsFromBodies() throws {
        func options(_ body: JSONValue?, _ target: String = "/p") throws -> DeleteOptions {
            try DeleteOptions(Self.request(target, method: "DELETE"), body: body)
        }
        #expect(Self.refusal { _ = try options([1]) }?.message.hasPrefix("couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value") == true)
        #expect(Self.refusal { _ = try options(7) }?.message.contains("cannot unmarshal number 7 into Go value") == true)
        #expect(Self.refusal { _ = try options(["kind": "Pod", "apiVersion": "v1"]) }?.message == "decoded object cannot be converted to DeleteOptions")
        #expect(Self.refusal { _ = try options(["gracePeriodSeconds": .double(1.5)]) }?.message
            == "json: cannot unmarshal number 1.5 into Go struct field DeleteOptions.gracePeriodSeconds of type int64")
        #expect(Self.refusal { _ = try options(["preconditions": ["uid": 5]]) }?.message
            == "json: cannot unmarshal number 5 into Go struct field DeleteOptions.preconditions.uid of type types.UID")
        #expect(Self.refusal { _ = try options(["orphanDependents": true, "propagationPolicy": "Orphan"]) }?.message
            == #"DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set"#)
        // The query is read only when there is no body, as kube-apiserver reads it.
        let fromBody = try options(["kind": "DeleteOptions", "gracePeriodSeconds": 5, "dryRun": ["All"], "preconditions": ["uid": "u"]], "/p?gracePeriodSeconds=x")
        #expect(fromBody.gracePeriod == 5 && fromBody.isDryRun && fromBody.preconditionUID == "u")
        #expect(try options(.null).gracePeriod == nil)
        #expect(try options(nil, "/p?gracePeriodSeconds=-7").gracePeriod == 1)
        #expect(try options(nil, "/p?gracePeriodSeconds=9223372036854775807").gracePeriod == DeleteOptions.maxGracePeriodSeconds)
        #expect(Self.refusal { _ = try options(nil, "/p?dryRun=Some") }?.status.code == 422)
    }

    @Test func writeOptions() throws {
        #expect(try WriteOptions(Self.request("/p?dryRun=All&fieldValidation=Strict&fieldManager=kubectl", method: "POST"), kind: "CreateOptions").dryRun)
        let long = Self.refusal { _ = try WriteOptions(Self.request("/p?fieldManager=" + String(repeating: "m", count: 129), method: "POST"), kind: "PatchOptions") }
        #expect(long?.message == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes"#)
        let control = Self.refusal { _ = try WriteOptions(Self.request("/p?fieldManager=a%07b", method: "POST"), kind: "UpdateOptions") }
        #expect(control?.message.contains("fieldManager: Invalid value: \"a\\u0007b\": invalid character U+0007 (at position 1)") == true, "\(String(describing: control))")
    }
}

/// The same, through the server's routes in process.
@Suite struct RequestOptionsAPITests {
    @Test(.timeLimit(.minutes(5))) func aWatchAskingForForeverStartsAndDeleteBodiesAreChecked() async throws {
        let dir = TemporaryDirectory()
        let (api, journal) = try await WatchResponseTests.api(dir)
        defer { journal.close() }
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#
        #expect(try await WatchResponseTests.send(api, .post, "/api/v1/namespaces/default/pods", body: pod).status == 201)
        // A watch that never ends is read from the API itself, a chunk at a time.
        let forever = WatchResponseTests.request("GET", "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=9223372036854775807")
        guard case .stream(let chunks) = try await api.serve(.list, forever, KubeAPI.Target(kind: .pod, namespace: "default")) else {
            Issue.record("not a stream")
            return
        }
        // The first line, then the client goes away (its write fails).
        struct Gone: Error {}
        var first: [UInt8]?
        await #expect(throws: Gone.self) {
            try await chunks.run { chunk in
                first = chunk
                throw Gone()
            }
        }
        #expect(first.map { String(decoding: $0, as: UTF8.self) }?.contains(#""type":"ADDED""#) == true)

        #expect(try await WatchResponseTests.send(api, .delete, "/api/v1/namespaces/default/pods/w", body: "[1]").status == 400, "DELETE with body [1] is refused")
        #expect(try await WatchResponseTests.send(api, .get, "/api/v1/namespaces/default/pods/w").status == 200, "and the pod is still there")
    }
}
