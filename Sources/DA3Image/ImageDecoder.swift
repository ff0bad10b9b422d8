// Mirrors PIL `Image.open(path).convert("RGB")` as used by the official
// `InputProcessor._load_image`: the format is sniffed from the magic bytes, never the extension.
import Foundation

/// Decodes JPEG and PNG files into ``RGBImage`` exactly like PIL `Image.open(...).convert("RGB")`.
public enum ImageDecoder {
    /// Reads and decodes the file at `url`. The format is chosen by magic bytes.
    /// - Throws: ``ImageError`` naming the file for a missing/unreadable/empty/truncated/unsupported file.
    public static func decode(fileAt url: URL) throws -> RGBImage {
        let name = url.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: name, isDirectory: &isDir) else {
            throw ImageError(file: name, reason: "no such file")
        }
        if isDir.boolValue { throw ImageError(file: name, reason: "is a directory, not an image file") }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageError(file: name, reason: "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data: data, name: name)
    }

    /// Decodes an in-memory encoded image; `name` is used in error messages (e.g. `"<memory>"`).
    /// - Throws: ``ImageError`` for empty, truncated, corrupt or unsupported data.
    public static func decode(data: Data, name: String) throws -> RGBImage {
        if data.isEmpty { throw ImageError(file: name, reason: "file is empty") }
        switch ImageFormat.sniff(data) {
        case .jpeg: return try JPEGDecoder.decode(data, name: name)
        case .png: return try PNGDecoder.decode(data, name: name)
        case nil: throw ImageError(file: name, reason: "cannot identify image file (not a JPEG or PNG)")
        }
    }
}

/// Encoded image formats recognised by their leading bytes.
enum ImageFormat {
    case jpeg, png

    /// JPEG starts with `FF D8 FF`, PNG with the 8-byte signature `89 'PNG' 0D 0A 1A 0A`.
    static func sniff(_ data: Data) -> ImageFormat? {
        let head = [UInt8](data.prefix(8))
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }
}
