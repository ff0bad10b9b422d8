// Mirrors Pillow's JpegDecoder (libjpeg-turbo, JCS_RGB output, JDCT_ISLOW, fancy upsampling)
// followed by `convert("RGB")`; greyscale is replicated into R, G and B like PIL's L -> RGB.
import CTurboJPEG
import Foundation

/// JPEG decoding through TurboJPEG's `tjDecompress2` with default flags (ISLOW DCT, fancy upsampling).
enum JPEGDecoder {
    static func decode(_ data: Data, name: String) throws -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw ImageError(file: name, reason: "cannot initialise the JPEG decoder")
        }
        defer { tjDestroy(handle) }

        func tjMessage() -> String {
            guard let s = tjGetErrorStr2(handle) else { return "unknown JPEG error" }
            return String(cString: s)
        }

        var width: Int32 = 0, height: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
        let bytes = [UInt8](data)
        let headerOK = bytes.withUnsafeBufferPointer { buf in
            tjDecompressHeader3(handle, buf.baseAddress, UInt(buf.count), &width, &height, &subsamp, &colorspace)
        }
        if headerOK != 0 {
            throw ImageError(file: name, reason: "broken or truncated JPEG header: \(tjMessage())")
        }
        if width <= 0 || height <= 0 {
            throw ImageError(file: name, reason: "JPEG header is truncated or has zero size (\(width)x\(height))")
        }
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw ImageError(file: name, reason: "CMYK/YCCK JPEG images are not supported")
        }
        let w = Int(width), h = Int(height)
        guard w.multipliedReportingOverflow(by: h).partialValue <= 1 << 30 else {
            throw ImageError(file: name, reason: "JPEG is too large (\(w)x\(h))")
        }
        let grey = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = grey ? 1 : 3
        let format = grey ? TJPF_GRAY : TJPF_RGB
        var raw = [UInt8](repeating: 0, count: w * h * channels)
        let rc = bytes.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress,
                              width, Int32(w * channels), height, Int32(format.rawValue), 0)
            }
        }
        if rc != 0 {
            let message = tjMessage()
            // A warning (TJERR_WARNING) still produced an image. PIL raises for truncated data
            // ("image file is truncated"), so premature end of data is an error here too; other
            // warnings (e.g. extraneous bytes before a marker) are ignored like PIL does.
            let fatal = tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue)
            if fatal || message.localizedCaseInsensitiveContains("premature end") {
                throw ImageError(file: name, reason: "broken or truncated JPEG data: \(message)")
            }
        }
        if !grey { return RGBImage(width: w, height: h, pixels: raw) }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            let v = raw[i]
            rgb[3 * i] = v; rgb[3 * i + 1] = v; rgb[3 * i + 2] = v
        }
        return RGBImage(width: w, height: h, pixels: rgb)
    }
}
