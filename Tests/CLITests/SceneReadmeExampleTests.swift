import DA3TestSupport
import Foundation
import XCTest
import DepthAnything3

// The README's scene example, compiled here verbatim (the test below checks it is the same text).
// BEGIN README SCENE EXAMPLE
func sceneExample(photos: [URL], camerasFile: URL?, outputDirectory: URL,
                  model: String = "depth-anything/DA3-SMALL", processRes: Int = 504) throws {
    let estimator = try DepthEstimator(model: model)
    let cameras = try camerasFile.map { try SceneCamera.load(jsonAt: $0) }   // optional: known cameras
    let scene = try estimator.estimateScene(imagesAt: photos, cameras: cameras,
                                            options: SceneOptions(processRes: processRes, referenceViewStrategy: .saddleBalanced))
    for (i, view) in scene.views.enumerated() {                              // input order, one size
        // view.depth, view.confidence: [Float], view.height x view.width; view.image: the processed RGB
        print(scene.names[i], scene.extrinsics[i], scene.intrinsics[i])      // world-to-camera 3x4, K 3x3
        print(view.depth.count)
    }
    print("reference view:", scene.referenceView.map(String.init) ?? "given cameras")
    let cloud = scene.worldPointCloud(confidenceThreshold: 1.05)             // all views, world frame
    print(cloud.count, "points")
    try scene.write([.npz, .glb, .colmap], to: outputDirectory)              // scene.npz, scene.glb, colmap/
}
// END README SCENE EXAMPLE

final class SceneReadmeExampleTests: TemporaryDirectoryTestCase {
    func testReadmeSceneExampleIsCompiledVerbatimAndRuns() throws {
        let readme = try String(contentsOf: Fixtures.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let start = source.range(of: "// BEGIN README SCENE EXAMPLE\n")!.upperBound
        let end = source.range(of: "// END README SCENE EXAMPLE\n")!.lowerBound
        XCTAssertTrue(readme.contains(String(source[start..<end])), "README's scene example differs from the compiled copy")

        let photos = try [(84, 70), (70, 84), (84, 84)].enumerated().map { i, s in
            let url = tempDir.appendingPathComponent("p\(i).png")
            try PNGEncoder.encode(RGBImage(width: s.0, height: s.1, pixels: SyntheticImage.rgb(width: s.0, height: s.1))).write(to: url)
            return url
        }
        let out = tempDir.appendingPathComponent("scene")
        try sceneExample(photos: photos, camerasFile: nil, outputDirectory: out, model: Fixtures.url("tiny").path, processRes: 84)
        for name in ["scene.npz", "scene.glb", "colmap/cameras.bin", "colmap/images.bin", "colmap/points3D.bin"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
    }
}
