import CSPNG
import DA3Image
import Foundation

/// PNG encoding through libspng: 8-bit RGB and 16-bit greyscale, optionally with `tEXt` chunks.
public enum PNGEncoder {
    /// Encodes an 8-bit RGB image.
    public static func encode(_ image: RGBImage, text: [(key: String, value: String)] = []) throws -> Data {
        try image.pixels.withUnsafeBytes { raw in
            try encode(raw, width: image.width, height: image.height, bitDepth: 8,
                       colorType: UInt8(SPNG_COLOR_TYPE_TRUECOLOR.rawValue), text: text)
        }
    }

    /// Encodes 16-bit greyscale samples (row-major `width x height`).
    public static func encodeGray16(_ samples: [UInt16], width: Int, height: Int, text: [(key: String, value: String)] = []) throws -> Data {
        precondition(samples.count == width * height, "sample count does not match the size")
        // libspng takes host-endian samples and writes them big-endian as PNG requires.
        return try samples.withUnsafeBytes { raw in
            try encode(raw, width: width, height: height, bitDepth: 16,
                       colorType: UInt8(SPNG_COLOR_TYPE_GRAYSCALE.rawValue), text: text)
        }
    }

    private static func encode(_ raw: UnsafeRawBufferPointer, width: Int, height: Int, bitDepth: UInt8,
                               colorType: UInt8, text: [(key: String, value: String)]) throws -> Data {
        guard width > 0, height > 0 else { throw OutputError(file: "<png>", reason: "cannot encode an empty image") }
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else {
            throw OutputError(file: "<png>", reason: "cannot initialise the PNG encoder")
        }
        defer { spng_ctx_free(ctx) }
        func check(_ rc: Int32, _ what: String) throws {
            if rc != 0 { throw OutputError(file: "<png>", reason: "PNG \(what) failed: \(String(cString: spng_strerror(rc)))") }
        }
        try check(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), "setup")
        var ihdr = spng_ihdr()
        ihdr.width = UInt32(width)
        ihdr.height = UInt32(height)
        ihdr.bit_depth = bitDepth
        ihdr.color_type = colorType
        try check(spng_set_ihdr(ctx, &ihdr), "header")
        try check(spng_encode_image(ctx, raw.baseAddress, raw.count, Int32(SPNG_FMT_PNG.rawValue),
                                    Int32(SPNG_ENCODE_FINALIZE.rawValue)), "encoding")
        var length = 0
        var rc: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &rc) else { try check(rc == 0 ? -1 : rc, "output"); return Data() }
        defer { free(buffer) }
        var png = Data(bytes: buffer, count: length)
        if !text.isEmpty { png = insertText(text, into: png) }
        return png
    }

    /// Inserts `tEXt` chunks right after IHDR (signature 8 bytes + IHDR chunk 25 bytes).
    static func insertText(_ text: [(key: String, value: String)], into png: Data) -> Data {
        var chunks = ByteWriter()
        for (key, value) in text {
            let body = Array(key.utf8) + [0] + Array(value.utf8)
            let type = Array("tEXt".utf8)
            withUnsafeBytes(of: UInt32(body.count).bigEndian) { chunks.bytes($0) }
            chunks.bytes(type)
            chunks.bytes(body)
            withUnsafeBytes(of: CRC32.checksum(type + body).bigEndian) { chunks.bytes($0) }
        }
        var out = png.prefix(33)
        out.append(chunks.data)
        out.append(png.dropFirst(33))
        return Data(out)
    }
}
