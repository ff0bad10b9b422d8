import Foundation

/// The 35 mm-equivalent focal length of a JPEG's EXIF (`FocalLengthIn35mmFilm`, tag 0xA405 of the
/// Exif IFD), in millimetres; nil when the file has no EXIF, no such tag, or a zero value (unknown).
public enum EXIFFocalLength {
    /// Reads the tag from JPEG bytes (APP1 "Exif" segment, TIFF little- or big-endian).
    public static func millimetres35(jpeg data: Data) -> Double? {
        let bytes = [UInt8](data)
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var pos = 2
        while pos + 4 <= bytes.count, bytes[pos] == 0xFF {
            let marker = bytes[pos + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }  // image data: no EXIF before it
            let length = Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3])
            guard length >= 2, pos + 2 + length <= bytes.count else { return nil }
            let body = pos + 4
            if marker == 0xE1, length >= 8, Array(bytes[body..<body + 6]) == Array("Exif\0\0".utf8) {
                return focal35(tiff: Array(bytes[(body + 6)..<(pos + 2 + length)]))
            }
            pos += 2 + length
        }
        return nil
    }

    /// The tag from a TIFF block: IFD0 -> ExifIFD pointer (0x8769) -> 0xA405 (SHORT).
    static func focal35(tiff t: [UInt8]) -> Double? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        /// The value field offset of `tag` in the IFD at `ifd`.
        func entry(_ ifd: Int, _ tag: Int) -> Int? {
            guard let count = u16(ifd), count < 1000 else { return nil }
            for i in 0..<count {
                let e = ifd + 2 + 12 * i
                if u16(e) == tag { return e + 8 }
            }
            return nil
        }
        guard let ifd0 = u32(4), let pointer = entry(ifd0, 0x8769), let exif = u32(pointer),
              let field = entry(exif, 0xA405), let mm = u16(field), mm > 0 else { return nil }
        return Double(mm)
    }
}
