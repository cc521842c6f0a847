import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// TLS for `kj serve`, as kube-apiserver has it: a private CA kept beside the journal (made on
/// first start) and a serving certificate it signs for the listen address, `localhost`,
/// `127.0.0.1` and `::1`. kubectl sends bearer tokens only over TLS, and trusts the server
/// through the CA in the kubeconfig.
struct ServingCertificates {
    let files: ServeFiles

    struct Loaded {
        var tls: TLSConfiguration
        /// The CA certificate (PEM), for kubeconfigs.
        var caPEM: String
    }

    /// Loads the CA (making it if missing) and issues a fresh serving certificate for `host`;
    /// clients must speak `minimumVersion` or later.
    func load(host: String, minimumVersion: TLSVersion) throws -> Loaded {
        let (caCert, caKey) = try loadOrMakeCA()
        let key = P256.Signing.PrivateKey()
        let now = Date()
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))]
        if let ip = Self.ipBytes(host) {
            if !names.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) }
        } else if host != "localhost", !host.isEmpty {
            names.append(.dnsName(host))
        }
        let sans = names
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: caCert.subject, subject: try DistinguishedName { CommonName("kubejournal-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
            },
            issuerPrivateKey: .init(caKey))
        let chain = [try NIOSSLCertificate(bytes: Array(try cert.serializeAsPEM().pemString.utf8), format: .pem)]
        let privateKey = try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        tls.minimumTLSVersion = minimumVersion
        return Loaded(tls: tls, caPEM: try caCert.serializeAsPEM().pemString)
    }

    private func loadOrMakeCA() throws -> (Certificate, P256.Signing.PrivateKey) {
        if let certPEM = try? String(contentsOfFile: files.caCertificate, encoding: .utf8),
           let keyPEM = try? String(contentsOfFile: files.caKey, encoding: .utf8) {
            return (try Certificate(pemEncoded: certPEM), try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("kubejournal-ca") }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        try files.writePrivate(key.pemRepresentation, to: files.caKey)
        try files.writePrivate(try cert.serializeAsPEM().pemString, to: files.caCertificate)
        return (cert, key)
    }

    /// The bytes of an IPv4 or IPv6 literal.
    static func ipBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
