import CSPNG
import Foundation
import XCTest

/// Strict, independent readers of the formats (written from the specs, sharing no code with the writers).
enum Readers {
    struct Bad: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    static func u16(_ d: [UInt8], _ o: Int) -> Int { Int(d[o]) | Int(d[o + 1]) << 8 }
    static func u32(_ d: [UInt8], _ o: Int) -> Int { u16(d, o) | u16(d, o + 2) << 16 }
    static func f32(_ d: [UInt8], _ o: Int) -> Float { Float(bitPattern: UInt32(u32(d, o))) }

    /// Bitwise CRC-32 (no table), for checking ZIP and PNG checksums.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    /// A parsed .npy: dtype descr, shape and raw little-endian data.
    struct NPYArray { var descr: String; var shape: [Int]; var data: [UInt8]
        var floats: [Float] { (0..<(data.count / 4)).map { f32(data, 4 * $0) } }
        var int64s: [Int64] { (0..<(data.count / 8)).map { Int64(u32(data, 8 * $0)) | Int64(u32(data, 8 * $0 + 4)) << 32 } }
    }

    static func npy(_ d: [UInt8]) throws -> NPYArray {
        guard d.count >= 10, d[0] == 0x93, Array(d[1..<6]) == Array("NUMPY".utf8), d[6] == 1, d[7] == 0 else { throw Bad("npy magic") }
        let hl = u16(d, 8)
        guard (10 + hl) % 64 == 0, d[10 + hl - 1] == 0x0a else { throw Bad("npy header alignment") }
        let header = String(decoding: d[10..<(10 + hl)], as: UTF8.self)
        guard header.hasPrefix("{'descr': '"), header.contains("'fortran_order': False"),
              let q = header.dropFirst(11).firstIndex(of: "'"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { throw Bad("npy header \(header)") }
        let descr = String(header[header.index(header.startIndex, offsetBy: 11)..<q])
        let shape = header[open.upperBound..<close].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
        let item = ["<f4": 4, "|u1": 1, "<i8": 8][descr] ?? 0
        let body = Array(d[(10 + hl)...])
        guard item > 0, body.count == shape.reduce(1, *) * item else { throw Bad("npy body size") }
        return NPYArray(descr: descr, shape: shape, data: body)
    }

    /// Members of a stored (uncompressed) ZIP, read through the central directory with CRCs checked.
    static func zip(_ d: [UInt8]) throws -> [String: [UInt8]] {
        guard let eocd = stride(from: d.count - 22, through: 0, by: -1).first(where: { u32(d, $0) == 0x0605_4b50 }) else { throw Bad("no EOCD") }
        let n = u16(d, eocd + 10), cdSize = u32(d, eocd + 12), cdOffset = u32(d, eocd + 16)
        guard cdOffset + cdSize == eocd else { throw Bad("central directory bounds") }
        var out: [String: [UInt8]] = [:]
        var p = cdOffset
        for _ in 0..<n {
            guard u32(d, p) == 0x0201_4b50, u16(d, p + 10) == 0 else { throw Bad("central entry / compression") }
            let crc = UInt32(u32(d, p + 16)), size = u32(d, p + 20), nameLen = u16(d, p + 28)
            let extra = u16(d, p + 30), comment = u16(d, p + 32), local = u32(d, p + 42)
            let name = String(decoding: d[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            guard u32(d, local) == 0x0403_4b50, u16(d, local + 26) == nameLen else { throw Bad("local header") }
            let start = local + 30 + nameLen + u16(d, local + 28)
            let body = d[start..<(start + size)]
            guard crc32(body) == crc else { throw Bad("crc of \(name)") }
            out[name] = Array(body)
            p += 46 + nameLen + extra + comment
        }
        return out
    }

    /// A 16-bit greyscale PNG: samples (via libspng) and tEXt chunks (via a chunk walk with CRC checks).
    static func png16(_ d: [UInt8]) throws -> (width: Int, height: Int, samples: [UInt16], text: [String: String]) {
        var text: [String: String] = [:]
        var p = 8
        while p + 12 <= d.count {
            let len = Int(d[p]) << 24 | Int(d[p + 1]) << 16 | Int(d[p + 2]) << 8 | Int(d[p + 3])
            let type = String(decoding: d[(p + 4)..<(p + 8)], as: UTF8.self)
            let crc = UInt32(d[p + 8 + len]) << 24 | UInt32(d[p + 9 + len]) << 16 | UInt32(d[p + 10 + len]) << 8 | UInt32(d[p + 11 + len])
            guard crc32(d[(p + 4)..<(p + 8 + len)]) == crc else { throw Bad("png chunk crc \(type)") }
            if type == "tEXt", let z = d[(p + 8)..<(p + 8 + len)].firstIndex(of: 0) {
                text[String(decoding: d[(p + 8)..<z], as: UTF8.self)] = String(decoding: d[(z + 1)..<(p + 8 + len)], as: UTF8.self)
            }
            p += 12 + len
        }
        guard let ctx = spng_ctx_new(0) else { throw Bad("spng") }
        defer { spng_ctx_free(ctx) }
        return try d.withUnsafeBufferPointer { buf in
            guard spng_set_png_buffer(ctx, buf.baseAddress, buf.count) == 0 else { throw Bad("spng buffer") }
            var ihdr = spng_ihdr()
            guard spng_get_ihdr(ctx, &ihdr) == 0, ihdr.bit_depth == 16, ihdr.color_type == 0 else { throw Bad("not 16-bit grey") }
            var size = 0
            _ = spng_decoded_image_size(ctx, Int32(SPNG_FMT_PNG.rawValue), &size)
            var raw = [UInt16](repeating: 0, count: size / 2)
            let rc = raw.withUnsafeMutableBytes { spng_decode_image(ctx, $0.baseAddress, size, Int32(SPNG_FMT_PNG.rawValue), 0) }
            guard rc == 0 else { throw Bad("spng decode \(rc)") }
            return (Int(ihdr.width), Int(ihdr.height), raw, text)
        }
    }

    /// A one-channel little-endian PFM, returned top row first.
    static func pfm(_ d: [UInt8]) throws -> (width: Int, height: Int, values: [Float]) {
        var lines: [String] = [], p = 0
        while lines.count < 3 {
            guard let nl = d[p...].firstIndex(of: 0x0a) else { throw Bad("pfm header") }
            lines.append(String(decoding: d[p..<nl], as: UTF8.self)); p = nl + 1
        }
        let wh = lines[1].split(separator: " ").compactMap { Int($0) }
        guard lines[0] == "Pf", wh.count == 2, let scale = Double(lines[2]), scale < 0 else { throw Bad("pfm header \(lines)") }
        let (w, h) = (wh[0], wh[1])
        guard d.count - p == w * h * 4 else { throw Bad("pfm size") }
        var values = [Float](repeating: 0, count: w * h)
        for row in 0..<h { for x in 0..<w { values[(h - 1 - row) * w + x] = f32(d, p + 4 * (row * w + x)) } }
        return (w, h, values)
    }

    /// A binary little-endian PLY with float x y z and uchar red green blue.
    static func ply(_ d: [UInt8]) throws -> (positions: [Float], colors: [UInt8]) {
        guard let end = String(decoding: d.prefix(2000), as: UTF8.self).range(of: "end_header\n") else { throw Bad("ply header") }
        let header = String(String(decoding: d.prefix(2000), as: UTF8.self)[..<end.upperBound])
        let lines = header.split(separator: "\n").filter { !$0.hasPrefix("comment") }.map(String.init)
        guard lines.first == "ply", lines[1] == "format binary_little_endian 1.0", lines[2].hasPrefix("element vertex "),
              Array(lines[3...8]) == ["property float x", "property float y", "property float z",
                                      "property uchar red", "property uchar green", "property uchar blue"],
              lines[9] == "end_header", let n = Int(lines[2].dropFirst(15)) else { throw Bad("ply header \(lines)") }
        let start = header.utf8.count
        guard d.count == start + n * 15 else { throw Bad("ply body size") }
        var pos = [Float](), col = [UInt8]()
        for i in 0..<n {
            let o = start + 15 * i
            pos += [f32(d, o), f32(d, o + 4), f32(d, o + 8)]
            col += [d[o + 12], d[o + 13], d[o + 14]]
        }
        return (pos, col)
    }

    /// A GLB 2.0 holding one POINTS primitive with POSITION (float VEC3) and COLOR_0 (ubyte VEC4).
    static func glb(_ d: [UInt8]) throws -> (positions: [Float], colors: [UInt8], json: [String: Any]) {
        guard u32(d, 0) == 0x4654_6C67, u32(d, 4) == 2, u32(d, 8) == d.count else { throw Bad("glb header") }
        let jl = u32(d, 12)
        guard u32(d, 16) == 0x4E4F_534A, jl % 4 == 0 else { throw Bad("json chunk") }
        let json = try JSONSerialization.jsonObject(with: Data(d[20..<(20 + jl)])) as! [String: Any]
        let b = 20 + jl
        guard u32(d, b + 4) == 0x004E_4942, b + 8 + u32(d, b) == d.count else { throw Bad("bin chunk") }
        let bin = Array(d[(b + 8)...])
        guard (json["asset"] as? [String: Any])?["version"] as? String == "2.0" else { throw Bad("asset version") }
        let prim = ((json["meshes"] as! [[String: Any]])[0]["primitives"] as! [[String: Any]])[0]
        guard prim["mode"] as? Int == 0 else { throw Bad("not POINTS") }
        let attrs = prim["attributes"] as! [String: Int]
        let accessors = json["accessors"] as! [[String: Any]], views = json["bufferViews"] as! [[String: Any]]
        guard (json["buffers"] as! [[String: Any]])[0]["byteLength"] as? Int ?? 0 <= bin.count else { throw Bad("buffer length") }
        func view(_ accessor: [String: Any]) -> (Int, Int) {
            let v = views[accessor["bufferView"] as! Int]
            return ((v["byteOffset"] as? Int ?? 0) + (accessor["byteOffset"] as? Int ?? 0), v["byteLength"] as! Int)
        }
        let pa = accessors[attrs["POSITION"]!], ca = accessors[attrs["COLOR_0"]!]
        guard pa["componentType"] as? Int == 5126, pa["type"] as? String == "VEC3", pa["min"] != nil, pa["max"] != nil,
              ca["componentType"] as? Int == 5121, ca["type"] as? String == "VEC4", ca["normalized"] as? Bool == true else { throw Bad("accessors") }
        let n = pa["count"] as! Int
        let (po, pl) = view(pa), (co, cl) = view(ca)
        guard pl == n * 12, cl == n * 4, po % 4 == 0, co % 4 == 0 else { throw Bad("view sizes") }
        let positions = (0..<(3 * n)).map { f32(bin, po + 4 * $0) }
        var colors = [UInt8]()
        for i in 0..<n { colors += bin[(co + 4 * i)..<(co + 4 * i + 3)]; guard bin[co + 4 * i + 3] == 255 else { throw Bad("alpha") } }
        let mins = pa["min"] as! [Double], maxs = pa["max"] as! [Double]
        for a in 0..<3 where n > 0 {
            let axis = stride(from: a, to: 3 * n, by: 3).map { positions[$0] }
            guard axis.min() == Float(mins[a]), axis.max() == Float(maxs[a]) else { throw Bad("min/max \(axis.min()!) \(mins[a])") }
        }
        return (positions, colors, json)
    }
}
