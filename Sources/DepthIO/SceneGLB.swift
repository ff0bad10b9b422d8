import Foundation

/// A scene as binary glTF (`utils/export/glb.py`): the fused cloud of all views, moved into the
/// reference camera's frame with glTF axes (x right, y up, z backward) and centred on the points'
/// median, as a `POINTS` primitive; with `showCameras`, each view's frustum (camera centre to the
/// image corners on a plane at 3% of the scene's 5-95 percentile diagonal, and the plane's outline)
/// as a `LINES` primitive in its own colour.
enum SceneGLB {
    static func encode(_ scene: SceneResult, options: SceneExportOptions) throws -> Data {
        let cloud = scene.worldPointCloud(confidenceThreshold: SceneExporter.glbThreshold(scene, options))
        // A = T_center · diag(1, -1, -1, 1) · w2c of view 0.
        let e0 = scene.extrinsics[0].map(Double.init)
        var a = [Double](repeating: 0, count: 12)
        for c in 0..<4 {
            a[c] = e0[c]
            a[4 + c] = -e0[4 + c]
            a[8 + c] = -e0[8 + c]
        }
        var points = transform(cloud.positions.map(Double.init), a)
        if cloud.count > 0 {
            for axis in 0..<3 {
                let center = median(stride(from: axis, to: points.count, by: 3).map { points[$0] })
                a[axis * 4 + 3] -= center
                for i in stride(from: axis, to: points.count, by: 3) { points[i] -= center }
            }
        }
        var keep = Array(0..<cloud.count)
        if keep.count > options.maxPoints { keep = (0..<options.maxPoints).map { $0 * cloud.count / options.maxPoints } }
        var positions: [Float] = [], colors: [UInt8] = []
        positions.reserveCapacity(keep.count * 3)
        for i in keep {
            positions += points[(3 * i)..<(3 * i + 3)].map { Float($0) }
            colors += cloud.colors[(3 * i)..<(3 * i + 3)] + [255]
        }
        var builder = GLTFBuilder()
        builder.addPrimitive(name: "points", mode: 0, positions: positions, colors: colors)
        if options.showCameras {
            let size = sceneScale(positions) * 0.03
            for v in scene.views.indices {
                let segments = frustum(scene, view: v, scale: size).map { Float($0) }
                let rgb = indexColor(v, scene.views.count)
                let lines = transform(segments.map(Double.init), a).map { Float($0) }
                builder.addPrimitive(name: "camera_\(v)", mode: 1, positions: lines,
                                     colors: Array([[UInt8]](repeating: rgb + [255], count: lines.count / 3).joined()))
            }
        }
        return try builder.glb()
    }

    /// Row-major 3x4 `a` applied to xyz triples.
    static func transform(_ p: [Double], _ a: [Double]) -> [Double] {
        var out = p
        for i in stride(from: 0, to: p.count, by: 3) {
            for r in 0..<3 { out[i + r] = a[r * 4] * p[i] + a[r * 4 + 1] * p[i + 1] + a[r * 4 + 2] * p[i + 2] + a[r * 4 + 3] }
        }
        return out
    }

    /// numpy.median (mean of the two middle values for an even count).
    static func median(_ v: [Double]) -> Double {
        let s = v.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// `_estimate_scene_scale`: norm of the 95th minus the 5th percentile per axis (1 when undefined).
    static func sceneScale(_ positions: [Float]) -> Double {
        guard positions.count >= 6 else { return 1 }
        let d = (0..<3).map { axis -> Double in
            let v = stride(from: axis, to: positions.count, by: 3).map { positions[$0] }
            return Double(percentile(v, 95)) - Double(percentile(v, 5))
        }
        let diag = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return diag.isFinite && diag > 0 ? diag : 1
    }

    /// `_camera_frustum_lines`: 8 segments (centre to 4 corners, the 4 plane edges) in the world frame.
    static func frustum(_ scene: SceneResult, view v: Int, scale: Double) -> [Double] {
        let k = scene.views[v].intrinsics, w = Double(scene.width), h = Double(scene.height)
        let c2w = ScenePointCloud.cameraToWorld(scene.extrinsics[v]).map(Double.init)
        func world(_ p: [Double]) -> [Double] {
            (0..<3).map { r in c2w[r * 4] * p[0] + c2w[r * 4 + 1] * p[1] + c2w[r * 4 + 2] * p[2] + c2w[r * 4 + 3] }
        }
        let centre = world([0, 0, 0])
        let corners = [(0.0, 0.0), (w - 1, 0.0), (w - 1, h - 1), (0.0, h - 1)].map { u, vv in
            world([(u - k.cx) / k.fx * scale, (vv - k.cy) / k.fy * scale, scale])
        }
        var out: [Double] = []
        for c in corners { out += centre + c }
        for (i, j) in [(0, 1), (1, 2), (2, 3), (3, 0)] { out += corners[i] + corners[j] }
        return out
    }

    /// `_index_color_rgb`: hue (i + 0.5) / n, saturation 0.85, value 0.95.
    static func indexColor(_ i: Int, _ n: Int) -> [UInt8] {
        let hue = (Double(i) + 0.5) / Double(max(n, 1)), s = 0.85, v = 0.95
        let sector = Int(hue * 6), f = hue * 6 - Double(sector)
        let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
        let rgb: (Double, Double, Double)
        switch sector % 6 {
        case 0: rgb = (v, t, p)
        case 1: rgb = (q, v, p)
        case 2: rgb = (p, v, t)
        case 3: rgb = (p, q, v)
        case 4: rgb = (t, p, v)
        default: rgb = (v, p, q)
        }
        return [rgb.0, rgb.1, rgb.2].map { UInt8($0 * 255) }
    }
}

/// A glTF 2.0 binary with one node and mesh per primitive (float VEC3 `POSITION` with min/max,
/// normalized unsigned byte VEC4 `COLOR_0`).
struct GLTFBuilder {
    private var bin = ByteWriter()
    private var nodes: [[String: Any]] = [], meshes: [[String: Any]] = []
    private var views: [[String: Any]] = [], accessors: [[String: Any]] = []

    mutating func addPrimitive(name: String, mode: Int, positions: [Float], colors: [UInt8]) {
        let n = positions.count / 3
        guard n > 0 else { return }
        var lo = [Float](repeating: .infinity, count: 3), hi = [Float](repeating: -.infinity, count: 3)
        let positionOffset = bin.data.count
        for i in 0..<n {
            for a in 0..<3 {
                let p = positions[3 * i + a]
                bin.f32(p); lo[a] = min(lo[a], p); hi[a] = max(hi[a], p)
            }
        }
        let colorOffset = bin.data.count
        bin.bytes(colors)
        views.append(["buffer": 0, "byteOffset": positionOffset, "byteLength": colorOffset - positionOffset, "target": 34962])
        views.append(["buffer": 0, "byteOffset": colorOffset, "byteLength": colors.count, "target": 34962])
        accessors.append(["bufferView": views.count - 2, "componentType": 5126, "count": n, "type": "VEC3",
                          "min": lo.map(Double.init), "max": hi.map(Double.init)])
        accessors.append(["bufferView": views.count - 1, "componentType": 5121, "normalized": true, "count": n, "type": "VEC4"])
        meshes.append(["name": name, "primitives": [["attributes": ["POSITION": accessors.count - 2, "COLOR_0": accessors.count - 1],
                                                      "mode": mode]]])
        nodes.append(["mesh": meshes.count - 1, "name": name])
    }

    func glb() throws -> Data {
        var json: [String: Any] = [
            "asset": ["version": "2.0", "generator": "DepthAnything3Swift"],
            "scene": 0, "scenes": [["nodes": Array(nodes.indices)]], "nodes": nodes,
        ]
        if !meshes.isEmpty {
            json["meshes"] = meshes
            json["buffers"] = [["byteLength": bin.data.count]]
            json["bufferViews"] = views
            json["accessors"] = accessors
        }
        var jsonData = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        while jsonData.count % 4 != 0 { jsonData.append(0x20) }
        var binData = bin.data
        while binData.count % 4 != 0 { binData.append(0) }
        var w = ByteWriter()
        let total = 12 + 8 + jsonData.count + (binData.isEmpty ? 0 : 8 + binData.count)
        w.u32(0x4654_6C67); w.u32(2); w.u32(UInt32(total))
        w.u32(UInt32(jsonData.count)); w.u32(0x4E4F_534A); w.data.append(jsonData)
        if !binData.isEmpty { w.u32(UInt32(binData.count)); w.u32(0x004E_4942); w.data.append(binData) }
        return w.data
    }
}
