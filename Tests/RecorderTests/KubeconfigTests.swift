import Foundation
import ClusterClient
import Recorder
import TestSupport
import Testing

@Suite struct KubeconfigTests {
    func write(_ text: String, in dir: TemporaryDirectory) -> String {
        let path = dir.sub("config")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func aContextPairsAClusterWithAUserAndFilesAreRelativeToTheConfig() throws {
        let dir = TemporaryDirectory()
        FileManager.default.createFile(atPath: dir.sub("token"), contents: Data("s3cret\n".utf8))
        FileManager.default.createFile(atPath: dir.sub("ca.pem"), contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        let path = write("""
            apiVersion: v1
            kind: Config
            current-context: prod
            clusters:
            - name: prod-cluster
              cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.pem}
            - name: lab-cluster
              cluster: {server: "https://lab:6443", insecure-skip-tls-verify: true}
            users:
            - name: alice
              user: {tokenFile: token}
            - name: bob
              user: {token: abc, client-certificate-data: "\(Data("CERT".utf8).base64EncodedString())"}
            contexts:
            - name: prod
              context: {cluster: prod-cluster, user: alice}
            - name: lab
              context: {cluster: lab-cluster, user: bob, namespace: test}
            """, in: dir)
        let config = try Kubeconfig.load(path)
        let prod = try config.connection(context: nil)
        #expect(prod.server == "https://10.0.0.1:6443")
        #expect(prod.token == "s3cret", "tokenFile is read relative to the kubeconfig, trimmed")
        #expect(prod.caPEM == Array("-----BEGIN CERTIFICATE-----\n".utf8))
        #expect(!prod.insecureSkipTLSVerify)
        let lab = try config.connection(context: "lab")
        #expect(lab.server == "https://lab:6443" && lab.insecureSkipTLSVerify && lab.token == "abc")
        #expect(lab.clientCertificatePEM == Array("CERT".utf8))
    }

    @Test func whatAKubeconfigLacksIsNamed() throws {
        let dir = TemporaryDirectory()
        let path = write("""
            clusters: [{name: c, cluster: {server: "https://h:1"}}]
            contexts: [{name: x, context: {cluster: missing}}]
            """, in: dir)
        let config = try Kubeconfig.load(path)
        #expect(throws: KubeClientError.self) { try config.connection(context: nil) }
        do {
            _ = try config.connection(context: "x")
            Issue.record("a context naming a missing cluster was accepted")
        } catch {
            #expect(error.description == "cluster \"missing\" of context \"x\" is not in \(path)")
        }
        #expect(throws: KubeClientError.self) { try Kubeconfig.load(dir.sub("nothing-here")) }
    }

    @Test func credentialsAProgramMakesAreNamedNotRun() throws {
        let dir = TemporaryDirectory()
        let config = try Kubeconfig.load(write("""
            current-context: eks
            clusters: [{name: c, cluster: {server: "https://h:443"}}]
            users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token]}}}]
            contexts: [{name: eks, context: {cluster: c, user: u}}]
            """, in: dir))
        do {
            _ = try config.connection(context: nil)
            Issue.record("an exec user was accepted")
        } catch {
            #expect(error.description.hasPrefix("user \"u\" of context \"eks\" gets its credentials from the program aws, which kj does not run"))
        }
    }

    @Test func theRecorderAsksForEachKindsCollectionInEveryNamespace() {
        #expect(Recorder.path(.pod, [("watch", "1"), ("resourceVersion", "42")]) == "/api/v1/pods?watch=1&resourceVersion=42")
        #expect(Recorder.path(.deployment, []) == "/apis/apps/v1/deployments")
        #expect(Recorder.path(.node, [("continue", "a/b=")]) == "/api/v1/nodes?continue=a%2Fb%3D")
    }
}
