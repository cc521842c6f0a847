/// A failed API operation, as Kubernetes reports it in a `Status` object: a reason and a message
/// (`pods "nginx" not found`). Nothing was appended to the journal. The HTTP status each reason
/// answers with belongs to the API server (`StatusError.status` there).
public struct StatusError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Reason: String, Sendable {
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case invalid = "Invalid"
        case badRequest = "BadRequest"
        case unauthorized = "Unauthorized"
        case forbidden = "Forbidden"
        case methodNotAllowed = "MethodNotAllowed"
        case gone = "Expired"
        case tooLarge = "RequestEntityTooLarge"
        case unsupportedMediaType = "UnsupportedMediaType"
        case notAcceptable = "NotAcceptable"
        case serviceUnavailable = "ServiceUnavailable"
        /// The journal has no room for the write (etcd's NOSPACE alarm): reads go on, writes are
        /// refused until space returns.
        case insufficientStorage = "InsufficientStorage"
        case internalError = "InternalError"
        /// A request refused for now (an eviction a disruption budget forbids).
        case tooManyRequests = "TooManyRequests"
    }

    /// One field-level cause of an Invalid error.
    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public var reason: Reason
    public var message: String
    /// The object's name, group and kind (`pods`), where there is one.
    public var name: String?
    public var group: String?
    public var kind: String?
    public var causes: [Cause]

    public init(_ reason: Reason, _ message: String, name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause] = []) {
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
    }

    public var description: String { message }
}
