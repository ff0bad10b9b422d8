// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "DepthAnything3Swift",
    products: [
        .library(name: "DepthAnything3", targets: ["DepthAnything3"]),
        .executable(name: "da3", targets: ["da3"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian packages named in `providers`).
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSPNG", pkgConfig: "spng", providers: [.apt(["libspng-dev"])]),

        // SIMD row kernels in C, dispatched at run time (AVX-512 / AVX2 / portable), no flags needed.
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("mvec", .when(platforms: [.linux]))]),
        // Tensors, CPU kernels, the backend protocol and the CPU backend's operators: no model knowledge.
        .target(name: "DA3Kernels", dependencies: ["CKernels"]),
        // The types every layer shares: the one file error, camera intrinsics.
        .target(name: "DA3Core"),
        // Memory-mapped safetensors reader.
        .target(name: "SafeTensors", dependencies: ["DA3Core"]),
        // Weight sources and loading, the prepared-weight cache file, deterministic synthetic weights.
        .target(name: "DA3Weights", dependencies: ["DA3Kernels", "SafeTensors", "CKernels"]),
        // The Depth Anything 3 network, written once against the backend protocol: presets, checkpoint
        // keys, backbone, head, camera decoder.
        .target(name: "DA3Model", dependencies: ["DA3Core", "DA3Kernels", "DA3Weights", "SafeTensors"]),
        // Image decoding and OpenCV-exact resizing / official preprocessing.
        .target(name: "DA3Image", dependencies: ["DA3Core", "CTurboJPEG", "CSPNG"]),
        // The depth result and its output formats: NPY/NPZ, 16-bit PNG, PFM, colour-mapped PNG, PLY/GLB point clouds.
        .target(name: "DepthIO", dependencies: ["DA3Core", "DA3Image", "CSPNG"]),
        // Hugging Face Hub downloads into the standard Hub cache.
        .target(name: "CCurl"),
        .target(name: "DA3Hub", dependencies: ["CCurl"]),
        // LiteRT backend: libLiteRt.so (PyPI ai-edge-litert) loaded at run time; builds without it.
        .target(name: "DA3LiteRT"),
        // Vulkan headers (Debian libvulkan-dev) without prototypes: nothing links the loader.
        .target(name: "CVulkan"),
        // Vulkan compute backend: libvulkan.so.1 loaded at run time, GLSL shaders compiled to SPIR-V.
        .target(name: "DA3Vulkan", dependencies: ["CVulkan", "DA3Kernels"], exclude: ["Shaders"]),
        // Public library API: load once, estimate many images, write outputs.
        .target(name: "DepthAnything3", dependencies: ["DA3Model", "DA3Image", "DepthIO", "DA3Hub", "DA3LiteRT", "DA3Vulkan", "CKernels"]),
        // Command-line tool.
        .executableTarget(name: "da3", dependencies: [
            "DepthAnything3", "DA3Vulkan",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmark: the engine on synthetic DA3 weights, side by side with tools/bench's peers.
        .executableTarget(name: "da3-bench", dependencies: [
            "DepthAnything3",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Vulkan shader timings at DA3-Small's shapes (functional on software devices such as lavapipe).
        .executableTarget(name: "da3-vulkan-bench", dependencies: ["DA3Vulkan", "DA3Model", "DA3Weights"]),
        // Test helpers shared by test targets (synthetic weights, fixture paths, metrics).
        .target(name: "DA3TestSupport", dependencies: ["DA3Model", "DA3Weights", "SafeTensors"]),

        .testTarget(name: "DA3KernelsTests", dependencies: ["DA3Kernels", "DA3TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "DA3TestSupport"]),
        .testTarget(name: "DA3ImageTests", dependencies: ["DA3Image", "DA3TestSupport"]),
        .testTarget(name: "DA3ModelTests", dependencies: ["DA3Model", "DepthAnything3", "DA3TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["da3", "DepthAnything3", "DA3TestSupport", "SafeTensors"]),
        .testTarget(name: "DA3TestSupportTests", dependencies: ["DA3TestSupport", "SafeTensors"]),
        .testTarget(name: "DepthIOTests", dependencies: ["DepthIO", "DA3Image", "CSPNG", "DA3TestSupport"]),
        .testTarget(name: "HubTests", dependencies: ["DA3Hub", "DepthAnything3", "DA3TestSupport"]),
        .testTarget(name: "LiteRTTests", dependencies: ["DA3LiteRT", "DepthAnything3", "DA3TestSupport"]),
        .testTarget(name: "VulkanTests", dependencies: ["DA3Vulkan", "DA3Kernels", "DA3Model", "DA3TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
