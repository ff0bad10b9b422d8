// The library's public surface re-exports the model, image, output-format and Hub types users touch.
@_exported import DA3Hub
@_exported import DA3Image
@_exported import DA3Model
@_exported import DepthIO
@_exported import DA3Vulkan
import DA3Kernels

/// Arithmetic of the native engine: `.exact` (FP32, the default) or `.fast` (reduced-precision
/// products where they are faster; see ``PrecisionChoice``).
public typealias Precision = DA3Kernels.Precision
/// The reduced-precision kernels behind `.fast` on the CPU.
public typealias FastKernels = DA3Kernels.FastKernels
/// The probe's FP32 and bfloat16 product rates.
public typealias FastKernelMeasurement = DA3Kernels.FastKernelMeasurement
/// The instruction-set level the CPU kernels run at (`DA3_ISA` lowers it).
public typealias KernelISA = DA3Kernels.KernelISA
