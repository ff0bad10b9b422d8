// Mirrors `cv::resize` (opencv modules/imgproc/src/resize.cpp, `resize` / `hal::resize`) for
// 8-bit 3-channel images, including the Intel IPP HAL dispatch of the opencv-python wheels:
// INTER_CUBIC goes to IPP (`ipp_hal_resize`, hal/ipp/src/resize_ipp.cpp) when the source is at
// least 4x4, INTER_AREA always runs OpenCV's own code (IPP "super" sampling is not exact).

/// Interpolation methods used by the official preprocessing (`cv2.INTER_AREA`, `cv2.INTER_CUBIC`).
public enum Interpolation: Sendable {
    /// `cv2.INTER_AREA`: pixel-area averaging when shrinking, a bilinear variant when enlarging.
    case area
    /// `cv2.INTER_CUBIC`: bicubic, a = -0.75, replicated border.
    case cubic
}

/// `cv2.resize` for 8-bit RGB images, matching opencv-python 5.0 on x86-64 element for element
/// (apart from rare off-by-one results of IPP's bicubic; see ``resize(_:width:height:interpolation:)``).
public enum OpenCVResize {
    /// Resizes `image` to `width` x `height` like `cv2.resize(img, (width, height), interpolation=...)`.
    ///
    /// Same size returns the input unchanged (OpenCV copies). INTER_AREA is bit-exact with OpenCV's
    /// fast integer-factor path, its general fractional path and its bilinear enlarging variant.
    /// INTER_CUBIC emulates IPP's floating-point bicubic (what cv2 uses for sources of at least
    /// 4x4) and OpenCV's fixed-point bicubic otherwise.
    /// - Precondition: all sizes are positive.
    public static func resize(_ image: RGBImage, width: Int, height: Int, interpolation: Interpolation) -> RGBImage {
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
        precondition(width > 0 && height > 0, "target size must be positive")
        if width == image.width && height == image.height { return image }
        switch interpolation {
        case .cubic:
            if image.width >= 4 && image.height >= 4 {
                return IPPCubic.resize(image, width: width, height: height)
            }
            return GenericResize.resize(image, width: width, height: height, kernel: .cubic)
        case .area:
            let invScaleX = Double(width) / Double(image.width)
            let invScaleY = Double(height) / Double(image.height)
            let scaleX = 1.0 / invScaleX, scaleY = 1.0 / invScaleY
            if scaleX >= 1 && scaleY >= 1 {
                let iscaleX = Int(scaleX.rounded(.toNearestOrEven))
                let iscaleY = Int(scaleY.rounded(.toNearestOrEven))
                if abs(scaleX - Double(iscaleX)) < Double.ulpOfOne && abs(scaleY - Double(iscaleY)) < Double.ulpOfOne {
                    return AreaResize.fast(image, width: width, height: height, scaleX: iscaleX, scaleY: iscaleY)
                }
                return AreaResize.general(image, width: width, height: height, scaleX: scaleX, scaleY: scaleY)
            }
            return GenericResize.resize(image, width: width, height: height, kernel: .areaLinear)
        }
    }
}

/// Round half to even and clamp to 0...255, like `saturate_cast<uchar>(float)` (cvRound) in OpenCV.
@inline(__always)
func saturateRound(_ v: Float) -> UInt8 {
    let r = v.rounded(.toNearestOrEven)
    if !(r > 0) { return 0 }
    if r >= 255 { return 255 }
    return UInt8(r)
}

/// Round half to even and clamp to 0...255 for doubles.
@inline(__always)
func saturateRound(_ v: Double) -> UInt8 {
    let r = v.rounded(.toNearestOrEven)
    if !(r > 0) { return 0 }
    if r >= 255 { return 255 }
    return UInt8(r)
}

/// Clamp an integer to 0...255 (`saturate_cast<uchar>(int)`).
@inline(__always)
func saturate8(_ v: Int32) -> UInt8 {
    v < 0 ? 0 : (v > 255 ? 255 : UInt8(v))
}
