import ClusterModel

/// The protobuf request-body decoder, opened to the fuzz targets (`Sources/FuzzTargets`) through
/// `@_spi(Fuzzing) import APIServer`; the server itself calls `KubeProtobuf` directly.
@_spi(Fuzzing) public enum ProtobufBodies {
    /// A `application/vnd.kubernetes.protobuf` body as the JSON the server goes on with, exactly
    /// as a request body is decoded; malformed bytes throw.
    public static func decode(_ body: [UInt8]) throws -> JSONValue { try KubeProtobuf.decode(body) }
}
