// Mirrors Pillow's PngImagePlugin (`_MODES` rawmodes) followed by `convert("RGB")`:
// alpha is dropped without compositing, no gamma; 16-bit samples keep their most significant
// byte (rawmodes RGB;16B, RGBA;16B, LA;16B), except 16-bit greyscale which PIL opens as
// mode I;16 and clips to 0...255 on conversion to RGB.
import CSPNG
import Foundation

/// PNG decoding through libspng.
enum PNGDecoder {
    static func decode(_ data: Data, name: String) throws -> RGBImage {
        guard let ctx = spng_ctx_new(0) else {
            throw ImageError(file: name, reason: "cannot initialise the PNG decoder")
        }
        defer { spng_ctx_free(ctx) }

        func fail(_ what: String, _ code: Int32) -> ImageError {
            let msg = String(cString: spng_strerror(code))
            if code == Int32(SPNG_EOF.rawValue) || code == Int32(SPNG_IO_EOF.rawValue) {
                return ImageError(file: name, reason: "truncated PNG file (\(what): \(msg))")
            }
            return ImageError(file: name, reason: "broken PNG file (\(what): \(msg))")
        }

        let bytes = [UInt8](data)
        return try bytes.withUnsafeBufferPointer { buf -> RGBImage in
            var rc = spng_set_png_buffer(ctx, buf.baseAddress, buf.count)
            if rc != 0 { throw fail("reading", rc) }
            _ = spng_set_image_limits(ctx, 1 << 20, 1 << 20)
            var ihdr = spng_ihdr()
            rc = spng_get_ihdr(ctx, &ihdr)
            if rc != 0 { throw fail("header", rc) }
            let w = Int(ihdr.width), h = Int(ihdr.height)
            if w == 0 || h == 0 { throw ImageError(file: name, reason: "PNG has zero size (\(w)x\(h))") }
            guard w.multipliedReportingOverflow(by: h).partialValue <= 1 << 30 else {
                throw ImageError(file: name, reason: "PNG is too large (\(w)x\(h))")
            }

            let grey16 = ihdr.bit_depth == 16 && ihdr.color_type == UInt8(SPNG_COLOR_TYPE_GRAYSCALE.rawValue)
            let fmt = Int32(grey16 ? SPNG_FMT_PNG.rawValue : SPNG_FMT_RGBA8.rawValue)
            var size = 0
            rc = spng_decoded_image_size(ctx, fmt, &size)
            if rc != 0 { throw fail("size", rc) }
            var raw = [UInt8](repeating: 0, count: size)
            rc = raw.withUnsafeMutableBytes { out in
                spng_decode_image(ctx, out.baseAddress, size, fmt, 0)
            }
            if rc != 0 { throw fail("decoding", rc) }

            var rgb = [UInt8](repeating: 0, count: w * h * 3)
            if grey16 {
                // Host-endian 16-bit samples; PIL's I;16 -> RGB conversion clips at 255.
                raw.withUnsafeBytes { r in
                    for i in 0..<(w * h) {
                        let v = r.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                        let c = UInt8(min(v, 255))
                        rgb[3 * i] = c; rgb[3 * i + 1] = c; rgb[3 * i + 2] = c
                    }
                }
            } else {
                for i in 0..<(w * h) {
                    rgb[3 * i] = raw[4 * i]
                    rgb[3 * i + 1] = raw[4 * i + 1]
                    rgb[3 * i + 2] = raw[4 * i + 2]
                }
            }
            return RGBImage(width: w, height: h, pixels: rgb)
        }
    }
}
