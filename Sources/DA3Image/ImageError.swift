@_exported import DA3Core

// Mirrors the exceptions PIL raises from `Image.open(path).convert("RGB")` (OSError /
// UnidentifiedImageError) and the ValueErrors of the official input processor.

/// An image could not be read or processed. `file` names the file (or `"<memory>"`), `reason` the cause.
public typealias ImageError = FileError
