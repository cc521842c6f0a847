import ControlPlane
import Hummingbird

extension StatusError.Reason {
    /// The HTTP status kube-apiserver answers a failure of this reason with.
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .alreadyExists, .conflict: .conflict
        case .invalid: .unprocessableContent
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .methodNotAllowed: .methodNotAllowed
        case .gone: .gone
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .notAcceptable: .notAcceptable
        case .serviceUnavailable: .serviceUnavailable
        case .insufficientStorage: .init(code: 507)
        case .internalError: .internalServerError
        case .tooManyRequests: .tooManyRequests
        }
    }
}

/// A Store or API failure thrown anywhere in the application (a handler, a middleware) is answered
/// as the Kubernetes `Status` object kubectl expects.
extension StatusError: HTTPResponseError {
    public var status: HTTPResponse.Status { reason.httpStatus }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        APIResponse.status(self).response
    }
}
