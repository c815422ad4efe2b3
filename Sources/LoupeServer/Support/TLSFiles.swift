import NIOSSL

/// `--tls-cert` and `--tls-key`: the PEM files the HTTP server and the Milvus gRPC listener serve TLS with.
///
/// The files are read and checked when the server starts, so a wrong path, a file that is not PEM, or a
/// key that does not belong to the certificate stops it with a message naming the file. Neither the key
/// nor its contents are ever logged or echoed.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate chain, leaf first (PEM).
    public var certificateChain: String
    /// The leaf certificate's private key (PEM, unencrypted).
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// The files as a TLS 1.2+ server configuration, checked: both files parse and the key fits the
    /// certificate.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChain)
        } catch {
            throw ServerError.configuration("--tls-cert '\(certificateChain)' is not a readable PEM certificate file")
        }
        guard !chain.isEmpty else {
            throw ServerError.configuration("--tls-cert '\(certificateChain)' holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw ServerError.configuration("--tls-key '\(privateKey)' is not a readable, unencrypted PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerError.configuration("--tls-key '\(privateKey)' does not belong to the certificate in '\(certificateChain)'")
        }
        return configuration
    }
}
