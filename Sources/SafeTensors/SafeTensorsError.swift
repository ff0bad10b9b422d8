/// A checkpoint problem, naming the file (and tensor when there is one) and the cause.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    /// Path of the file that failed.
    public let file: String
    /// What is wrong, in one line.
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
