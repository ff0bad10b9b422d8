// Mirrors the exceptions PIL raises from `Image.open(path).convert("RGB")` (OSError /
// UnidentifiedImageError) and the ValueErrors of the official input processor, as one error type.

/// An image could not be read or processed. `file` names the file (or `"<memory>"`), `reason` the cause.
public struct ImageError: Error, CustomStringConvertible, Sendable {
    /// The file path (or `"<memory>"`, or the name passed to ``ImageDecoder/decode(data:name:)``).
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
