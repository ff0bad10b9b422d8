import Foundation
import DA3Kernels
import DA3Weights

/// Camera intrinsics in pixels of the processed image.
public struct Intrinsics: Sendable, Equatable, Codable {
    public var fx: Double, fy: Double, cx: Double, cy: Double
    /// Processed image size these intrinsics refer to.
    public var width: Int, height: Int

    public init(fx: Double, fy: Double, cx: Double, cy: Double, width: Int, height: Int) {
        self.fx = fx; self.fy = fy; self.cx = cx; self.cy = cy
        self.width = width; self.height = height
    }
}

/// The camera decoder (`model/cam_dec.py`) and the pose-encoding → intrinsics conversion
/// (`pose_encoding_to_extri_intri` in `model/utils/transform.py`). It runs on the host whatever the
/// backend (two 2D x 2D matrix-vector products on the camera token).
struct CameraDecoder {
    let fc1: CPULinear, fc2: CPULinear
    let translation: CPULinear, quaternion: CPULinear, fov: CPULinear

    init(_ loader: WeightLoader, config: ModelConfig) throws {
        typealias K = CheckpointKeys.Camera
        let d = 2 * config.embedDim
        fc1 = try CPULinear(loader, LinearParameters(K.fc1, in: d, out: d))
        fc2 = try CPULinear(loader, LinearParameters(K.fc2, in: d, out: d))
        translation = try CPULinear(loader, LinearParameters(K.translation, in: d, out: 3))
        quaternion = try CPULinear(loader, LinearParameters(K.quaternion, in: d, out: 4))
        fov = try CPULinear(loader, LinearParameters(K.fov, in: d, out: 2))
    }

    /// The 9-value pose encoding: translation (3), quaternion xyzw (4), fov_h and fov_w (2, radians).
    func poseEncoding(cameraToken: [Float]) -> [Float] {
        let relu: ([Float]) -> [Float] = { $0.map { max($0, 0) } }
        let h = relu(fc2(relu(fc1(cameraToken))))
        return translation(h) + quaternion(h) + relu(fov(h))
    }

    /// fx = (W/2) / tan(fov_w/2), fy = (H/2) / tan(fov_h/2) (tan clamped at 1e-6), principal point at the centre.
    static func intrinsics(poseEncoding pose: [Float], width: Int, height: Int) -> Intrinsics {
        let tanH = max(tanf(pose[7] / 2), 1e-6), tanW = max(tanf(pose[8] / 2), 1e-6)
        let fy = Float(Double(height) / 2) / tanH
        let fx = Float(Double(width) / 2) / tanW
        return Intrinsics(fx: Double(fx), fy: Double(fy), cx: Double(width) / 2, cy: Double(height) / 2,
                          width: width, height: height)
    }
}
