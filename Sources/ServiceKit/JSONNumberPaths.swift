import Foundation

/// Paths to the numbers of a parsed JSON value (`JSONSerialization` objects).
enum JSONNumberPaths {
    enum Step { case key(String), index(Int) }

    static func paths(in value: Any, at path: [Step] = []) -> [[Step]] {
        switch value {
        case let object as [String: Any]:
            return object.keys.sorted().flatMap { paths(in: object[$0]!, at: path + [.key($0)]) }
        case let array as [Any]:
            return array.enumerated().flatMap { paths(in: $0.element, at: path + [.index($0.offset)]) }
        case let number as NSNumber where !isBoolean(number):
            return [path]
        default:
            return []
        }
    }

    static func replacing(_ path: [Step], in value: Any, with replacement: Any) -> Any {
        guard let step = path.first else { return replacement }
        switch (step, value) {
        case (.key(let key), var object as [String: Any]):
            object[key] = object[key].map { replacing(Array(path.dropFirst()), in: $0, with: replacement) }
            return object
        case (.index(let index), var array as [Any]) where array.indices.contains(index):
            array[index] = replacing(Array(path.dropFirst()), in: array[index], with: replacement)
            return array
        default:
            return value
        }
    }

    static func dotted(_ path: [Step]) -> String {
        path.map { step in
            switch step {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }.joined(separator: ".")
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
