// The library's public surface re-exports the model, image, output-format and Hub types users touch.
@_exported import DA3Hub
@_exported import DA3Image
@_exported import DA3Model
@_exported import DepthIO
@_exported import DA3Vulkan
import DA3Kernels

/// Arithmetic of the native engine: `.exact` (FP32, the default) or `.fast` (bfloat16 products).
public typealias Precision = DA3Kernels.Precision
