import Foundation

/// A COLMAP sparse model of a scene (`utils/export/colmap.py`): one PINHOLE camera per view at the
/// input image's size (intrinsics scaled from the processed size), one image per view with its
/// world-to-camera pose, and one 3D point per pixel whose confidence reaches the
/// `confThreshPercentile` percentile of all views, observed by its own view only. Written in
/// COLMAP's binary form (`cameras.bin`, `images.bin`, `points3D.bin`), as the official exporter
/// (pycolmap) writes it, or as text (`SceneExportOptions.colmapText`).
enum SceneCOLMAP {
    struct Image {
        var quaternion: [Double], translation: [Double], name: String
        /// (x, y, 3D point id) in input pixels.
        var points: [(x: Double, y: Double, point: Int)]
    }

    struct Model {
        /// Per view (id = index + 1): width, height and fx, fy, cx, cy.
        var cameras: [(width: Int, height: Int, params: [Double])] = []
        var images: [Image] = []
        /// Per point (id = index + 1): world position, colour and its one observation (image id, 2D index).
        var positions: [Float] = [], colors: [UInt8] = []
        var track: [(image: Int, index: Int)] = []
    }

    static func encode(_ scene: SceneResult, options: SceneExportOptions) -> [(name: String, data: Data)] {
        let model = build(scene, options: options)
        return options.colmapText ? text(model) : binary(model)
    }

    static func build(_ scene: SceneResult, options: SceneExportOptions) -> Model {
        let threshold = percentile(scene.views.flatMap(\.confidence), options.confThreshPercentile)
        let cloud = scene.worldPointCloud(confidenceThreshold: threshold)
        var model = Model(positions: cloud.positions, colors: cloud.colors,
                          track: [(image: Int, index: Int)](repeating: (0, 0), count: cloud.count))
        var pointsByView = [[Int]](repeating: [], count: scene.views.count)
        for (p, s) in cloud.sources.enumerated() { pointsByView[s.view].append(p) }
        for (v, view) in scene.views.enumerated() {
            let sx = Double(view.originalWidth) / Double(scene.width), sy = Double(view.originalHeight) / Double(scene.height)
            let k = view.intrinsics
            model.cameras.append((view.originalWidth, view.originalHeight, [k.fx * sx, k.fy * sy, k.cx * sx, k.cy * sy]))
            let e = scene.extrinsics[v].map(Double.init)
            var image = Image(quaternion: quaternion([e[0], e[1], e[2], e[4], e[5], e[6], e[8], e[9], e[10]]),
                              translation: [e[3], e[7], e[11]], name: scene.names[v], points: [])
            for (j, p) in pointsByView[v].enumerated() {
                let s = cloud.sources[p]
                image.points.append((Double(s.x) * sx, Double(s.y) * sy, p + 1))
                model.track[p] = (v + 1, j)
            }
            model.images.append(image)
        }
        return model
    }

    /// COLMAP's binary model (little-endian; camera model 1 = PINHOLE).
    static func binary(_ m: Model) -> [(name: String, data: Data)] {
        var cameras = ByteWriter(), images = ByteWriter(), points = ByteWriter()
        cameras.u64(UInt64(m.cameras.count))
        for (i, c) in m.cameras.enumerated() {
            cameras.u32(UInt32(i + 1))
            cameras.u32(1)
            cameras.u64(UInt64(c.width))
            cameras.u64(UInt64(c.height))
            c.params.forEach { cameras.f64($0) }
        }
        images.u64(UInt64(m.images.count))
        for (i, image) in m.images.enumerated() {
            images.u32(UInt32(i + 1))
            (image.quaternion + image.translation).forEach { images.f64($0) }
            images.u32(UInt32(i + 1))
            images.text(image.name)
            images.u8(0)
            images.u64(UInt64(image.points.count))
            for p in image.points {
                images.f64(p.x)
                images.f64(p.y)
                images.u64(UInt64(p.point))
            }
        }
        points.u64(UInt64(m.track.count))
        for p in 0..<m.track.count {
            points.u64(UInt64(p + 1))
            m.positions[(3 * p)..<(3 * p + 3)].forEach { points.f64(Double($0)) }
            points.bytes(m.colors[(3 * p)..<(3 * p + 3)])
            points.f64(0)  // reprojection error
            points.u64(1)
            points.u32(UInt32(m.track[p].image))
            points.u32(UInt32(m.track[p].index))
        }
        return [("cameras.bin", cameras.data), ("images.bin", images.data), ("points3D.bin", points.data)]
    }

    /// COLMAP's text model.
    static func text(_ m: Model) -> [(name: String, data: Data)] {
        var cameras = "# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
        cameras += "# Number of cameras: \(m.cameras.count)\n"
        for (i, c) in m.cameras.enumerated() {
            cameras += "\(i + 1) PINHOLE \(c.width) \(c.height) \(c.params.map(num).joined(separator: " "))\n"
        }
        var images = "# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
        images += "#   POINTS2D[] as (X, Y, POINT3D_ID)\n# Number of images: \(m.images.count)\n"
        for (i, image) in m.images.enumerated() {
            images += "\(i + 1) \((image.quaternion + image.translation).map(num).joined(separator: " ")) \(i + 1) \(image.name)\n"
            images += image.points.map { "\(num($0.x)) \(num($0.y)) \($0.point)" }.joined(separator: " ") + "\n"
        }
        var points = "# 3D point list with one line of data per point:\n"
        points += "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n"
        points += "# Number of points: \(m.track.count)\n"
        points.reserveCapacity(m.track.count * 64)
        for p in 0..<m.track.count {
            let x = m.positions[(3 * p)..<(3 * p + 3)].map { num(Double($0)) }.joined(separator: " ")
            let c = m.colors[(3 * p)..<(3 * p + 3)].map { String($0) }.joined(separator: " ")
            points += "\(p + 1) \(x) \(c) 0 \(m.track[p].image) \(m.track[p].index)\n"
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
