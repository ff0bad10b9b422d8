/// The project's one error with a place and a cause: a file (or `"<memory>"`, or an option name)
/// and a one-line reason. Images that cannot be read (`ImageError`), checkpoints
/// (`SafeTensorsError`, `CheckpointError`) and outputs (`OutputError`) all use it under those names.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file path (or `"<memory>"`, or the name of the option or buffer concerned).
    public let file: String
    /// One-line human-readable cause.
    public let reason: String

    /// Creates an error for `file` with the one-line `reason`.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    /// `"<file>: <reason>"` on one line.
    public var description: String { "\(file): \(reason)" }
}
