import Foundation

/// Binary glTF 2.0 (`.glb`) point clouds: one mesh primitive in `POINTS` mode (mode 0) with
/// `POSITION` (float VEC3, with min/max) and `COLOR_0` (normalized unsigned byte VEC4, alpha 255).
///
/// glTF is y-up, z towards the viewer, so camera-frame points (x right, y down, z forward) are
/// stored as (x, -y, -z): the scene appears upright, seen from the camera.
public enum GLB {
    /// Encodes `cloud`.
    public static func encode(_ cloud: PointCloud) throws -> Data {
        let n = cloud.count
        var bin = ByteWriter()
        var lo = [Float](repeating: .infinity, count: 3), hi = [Float](repeating: -.infinity, count: 3)
        for i in 0..<n {
            let p = [cloud.positions[3 * i], -cloud.positions[3 * i + 1], -cloud.positions[3 * i + 2]]
            for a in 0..<3 { bin.f32(p[a]); lo[a] = min(lo[a], p[a]); hi[a] = max(hi[a], p[a]) }
        }
        let colorOffset = bin.data.count
        for i in 0..<n { bin.bytes(cloud.colors[(3 * i)..<(3 * i + 3)]); bin.u8(255) }
        if n == 0 { lo = [0, 0, 0]; hi = [0, 0, 0] }
        let json: [String: Any] = [
            "asset": ["version": "2.0", "generator": "DepthAnything3Swift"],
            "scene": 0,
            "scenes": [["nodes": [0]]],
            "nodes": [["mesh": 0, "name": "points"]],
            "meshes": [["primitives": [["attributes": ["POSITION": 0, "COLOR_0": 1], "mode": 0]]]],
            "buffers": [["byteLength": bin.data.count]],
            "bufferViews": [
                ["buffer": 0, "byteOffset": 0, "byteLength": colorOffset, "target": 34962],
                ["buffer": 0, "byteOffset": colorOffset, "byteLength": bin.data.count - colorOffset, "target": 34962],
            ],
            "accessors": [
                ["bufferView": 0, "componentType": 5126, "count": n, "type": "VEC3",
                 "min": lo.map(Double.init), "max": hi.map(Double.init)],
                ["bufferView": 1, "componentType": 5121, "normalized": true, "count": n, "type": "VEC4"],
            ],
        ]
        var jsonData = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        while jsonData.count % 4 != 0 { jsonData.append(0x20) }
        var binData = bin.data
        while binData.count % 4 != 0 { binData.append(0) }
        var w = ByteWriter()
        w.u32(0x4654_6C67); w.u32(2); w.u32(UInt32(12 + 8 + jsonData.count + 8 + binData.count))
        w.u32(UInt32(jsonData.count)); w.u32(0x4E4F_534A); w.data.append(jsonData)
        w.u32(UInt32(binData.count)); w.u32(0x004E_4942); w.data.append(binData)
        return w.data
    }
}
