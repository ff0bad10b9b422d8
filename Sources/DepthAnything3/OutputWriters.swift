import Foundation

/// Writers for the single-file CLI outputs (`--output`, `--confidence`, `--intrinsics`). Every
/// write goes to a temporary name in the destination directory and is renamed into place, so a
/// failure never leaves a partial file. The other formats live in ``DepthExporter``.
public enum OutputWriters {
    /// A NumPy `.npy` (format 1.0) of little-endian float32 with the given shape, C order.
    public static func npy(_ values: [Float], shape: [Int]) -> Data {
        NPY.encode(values, shape: shape)
    }

    /// `{"fx":…, "fy":…, "cx":…, "cy":…, "width":…, "height":…}` for the processed image.
    public static func intrinsicsJSON(_ k: Intrinsics) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(k)
        data.append(0x0a)
        return data
    }

    /// Writes `data` to `url` atomically (temporary file in the same directory, then rename).
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        try AtomicFile.write(data, to: url)
    }
}
