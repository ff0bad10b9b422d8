import Foundation

/// A COLMAP text model of a scene (`utils/export/colmap.py`, written as text): one PINHOLE camera per
/// view at the input image's size (intrinsics scaled from the processed size), one image per view
/// with its world-to-camera pose, and one 3D point per pixel whose confidence reaches the
/// `confThreshPercentile` percentile of all views, observed by its own view only.
enum SceneCOLMAP {
    static func encode(_ scene: SceneResult, options: SceneExportOptions) -> [(name: String, data: Data)] {
        let threshold = percentile(scene.views.flatMap(\.confidence), options.confThreshPercentile)
        let cloud = scene.worldPointCloud(confidenceThreshold: threshold)
        let w = scene.width, h = scene.height
        var cameras = "# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
        cameras += "# Number of cameras: \(scene.views.count)\n"
        var images = "# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
        images += "#   POINTS2D[] as (X, Y, POINT3D_ID)\n# Number of images: \(scene.views.count)\n"
        var pointsByView = [[Int]](repeating: [], count: scene.views.count)
        for (p, s) in cloud.sources.enumerated() { pointsByView[s.view].append(p) }
        var track = [(image: Int, index: Int)](repeating: (0, 0), count: cloud.count)
        for (v, view) in scene.views.enumerated() {
            let sx = Double(view.originalWidth) / Double(w), sy = Double(view.originalHeight) / Double(h)
            let k = view.intrinsics
            cameras += "\(v + 1) PINHOLE \(view.originalWidth) \(view.originalHeight) \(num(k.fx * sx)) \(num(k.fy * sy)) \(num(k.cx * sx)) \(num(k.cy * sy))\n"
            let e = scene.extrinsics[v].map(Double.init)
            let q = quaternion([e[0], e[1], e[2], e[4], e[5], e[6], e[8], e[9], e[10]])
            images += "\(v + 1) \(q.map(num).joined(separator: " ")) \(num(e[3])) \(num(e[7])) \(num(e[11])) \(v + 1) \(scene.names[v])\n"
            var line: [String] = []
            for (j, p) in pointsByView[v].enumerated() {
                let s = cloud.sources[p]
                line.append("\(num(Double(s.x) * sx)) \(num(Double(s.y) * sy)) \(p + 1)")
                track[p] = (v + 1, j)
            }
            images += line.joined(separator: " ") + "\n"
        }
        var points = "# 3D point list with one line of data per point:\n"
        points += "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
        points += "# Number of points: \(cloud.count)\n"
        points.reserveCapacity(cloud.count * 64)
        for p in 0..<cloud.count {
            let x = cloud.positions[(3 * p)..<(3 * p + 3)].map { num(Double($0)) }.joined(separator: " ")
            let c = cloud.colors[(3 * p)..<(3 * p + 3)].map { String($0) }.joined(separator: " ")
            points += "\(p + 1) \(x) \(c) 0 \(track[p].image) \(track[p].index)\n"
        }
        return [("cameras.txt", Data(cameras.utf8)), ("images.txt", Data(images.utf8)), ("points3D.txt", Data(points.utf8))]
    }

    /// Shortest round-trip decimal.
    static func num(_ x: Double) -> String { "\(x)" }

    /// (qw, qx, qy, qz) of a row-major rotation, qw >= 0 (COLMAP's convention).
    static func quaternion(_ m: [Double]) -> [Double] {
        let trace = m[0] + m[4] + m[8]
        var q: [Double]
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            q = [s / 4, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s]
        } else if m[0] > m[4] && m[0] > m[8] {
            let s = (1 + m[0] - m[4] - m[8]).squareRoot() * 2
            q = [(m[7] - m[5]) / s, s / 4, (m[1] + m[3]) / s, (m[2] + m[6]) / s]
        } else if m[4] > m[8] {
            let s = (1 + m[4] - m[0] - m[8]).squareRoot() * 2
            q = [(m[2] - m[6]) / s, (m[1] + m[3]) / s, s / 4, (m[5] + m[7]) / s]
        } else {
            let s = (1 + m[8] - m[0] - m[4]).squareRoot() * 2
            q = [(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, s / 4]
        }
        let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        q = q.map { $0 / norm }
        return q[0] < 0 ? q.map { -$0 } : q
    }
}
