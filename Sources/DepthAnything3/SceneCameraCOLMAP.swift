import Foundation

extension SceneCamera {
    /// Reads the cameras of `imageNames` (matched by file name) from a COLMAP sparse model in
    /// `directory`: binary (`cameras.bin`, `images.bin`, as COLMAP, pycolmap and the official exporter
    /// write it) or text (`cameras.txt`, `images.txt`, as `da3 images --formats colmap` writes it).
    /// PINHOLE, SIMPLE_PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV and FULL_OPENCV cameras are taken as
    /// pinholes (distortion ignored; SIMPLE_* share one focal length); a camera's intrinsics are
    /// scaled to `imageSizes` (width, height per image) where given and different.
    public static func load(colmapModelAt directory: URL, imageNames: [String],
                            imageSizes: [(width: Int, height: Int)]? = nil) throws -> [SceneCamera] {
        let model = try COLMAPModelReader(directory: directory)
        return try imageNames.enumerated().map { index, name in
            let file = URL(fileURLWithPath: name).lastPathComponent
            guard let image = model.images[file] ?? model.images[name] else {
                throw SceneError(file: model.imagesFile, reason: "no image named \(file) in the COLMAP model")
            }
            guard let camera = model.cameras[image.camera] else {
                throw SceneError(file: model.camerasFile, reason: "image \(file) uses camera \(image.camera), which is not listed")
            }
            var k = try pinhole(camera, id: image.camera, file: model.camerasFile)
            if let size = imageSizes?[index] {
                let sx = Float(Double(size.width) / camera.width), sy = Float(Double(size.height) / camera.height)
                k[0] *= sx; k[2] *= sx; k[4] *= sy; k[5] *= sy
            }
            return SceneCamera(extrinsics: extrinsics(image), intrinsics: k)
        }
    }

    /// Row-major K of a camera (distortion ignored).
    private static func pinhole(_ c: COLMAPModelReader.Camera, id: Int, file: String) throws -> [Float] {
        let p = c.params
        let k: [Double]
        switch c.model {
        case "PINHOLE" where p.count == 4, "OPENCV" where p.count == 8, "FULL_OPENCV" where p.count == 12:
            k = [p[0], p[1], p[2], p[3]]
        case "SIMPLE_PINHOLE" where p.count == 3, "SIMPLE_RADIAL" where p.count == 4, "RADIAL" where p.count == 5:
            k = [p[0], p[0], p[1], p[2]]
        default:
            throw SceneError(file: file, reason: "camera \(id): model \(c.model) with \(p.count) parameters is not a pinhole camera this reader takes")
        }
        return [Float(k[0]), 0, Float(k[2]), 0, Float(k[1]), Float(k[3]), 0, 0, 1]
    }

    /// World-to-camera 4x4 from COLMAP's (normalized) quaternion and translation.
    private static func extrinsics(_ image: COLMAPModelReader.Image) -> [Float] {
        let q = image.quaternion, t = image.translation
        let n = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).squareRoot()
        let (qw, qx, qy, qz) = (q[0] / n, q[1] / n, q[2] / n, q[3] / n)
        let r = [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw),
                 2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw),
                 2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)]
        return [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2], 0, 0, 0, 1].map(Float.init)
    }
}
