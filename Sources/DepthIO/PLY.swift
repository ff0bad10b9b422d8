import Foundation

/// Binary little-endian PLY 1.0 point clouds: `vertex` elements with float `x y z` and uchar
/// `red green blue`, in the camera frame (OpenCV axes: x right, y down, z forward).
public enum PLY {
    /// Encodes `cloud`.
    public static func encode(_ cloud: PointCloud) -> Data {
        var w = ByteWriter()
        w.text("""
            ply
            format binary_little_endian 1.0
            comment Depth Anything 3 (Swift) point cloud, camera frame: x right, y down, z forward
            element vertex \(cloud.count)
            property float x
            property float y
            property float z
            property uchar red
            property uchar green
            property uchar blue
            end_header

            """)
        for i in 0..<cloud.count {
            w.f32(cloud.positions[3 * i]); w.f32(cloud.positions[3 * i + 1]); w.f32(cloud.positions[3 * i + 2])
            w.u8(cloud.colors[3 * i]); w.u8(cloud.colors[3 * i + 1]); w.u8(cloud.colors[3 * i + 2])
        }
        return w.data
    }
}
