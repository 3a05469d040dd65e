import Foundation
import Hummingbird

extension Parameters {
    /// The path parameter `name` with its percent-encoding undone: ids such as a booking's
    /// `<event>:<uuid>` or a visitor's `u:<id>` arrive encoded from clients that encode every
    /// path segment. Throws the router's 400 when the parameter is missing.
    public func requireDecoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
