// Mirrors the official `InputProcessor._normalize_image`: torchvision `ToTensor()` (uint8 HWC ->
// float32 CHW, `.div(255)`) followed by `Normalize(mean, std)` (`tensor.sub_(mean).div_(std)`),
// all in float32, so the result is bitwise what torch produces.

extension Preprocessor {
    /// ImageNet mean as float32 (`torch.as_tensor([0.485, 0.456, 0.406], dtype=torch.float32)`).
    public static let imageNetMean: [Float] = [Float(0.485 as Double), Float(0.456 as Double), Float(0.406 as Double)]
    /// ImageNet std as float32 (`torch.as_tensor([0.229, 0.224, 0.225], dtype=torch.float32)`).
    public static let imageNetStd: [Float] = [Float(0.229 as Double), Float(0.224 as Double), Float(0.225 as Double)]

    /// ImageNet normalisation into planar CHW float32: `Float(p) / 255`, then `(x - mean) / std`,
    /// each step rounded to float32 exactly as torch does.
    public static func normalize(_ image: RGBImage) -> [Float] {
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: 3 * plane)
        // Per channel, the 256 possible results (the arithmetic is the same for every pixel).
        var lut = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 {
                let x = Float(v) / Float(255)
                lut[c * 256 + v] = (x - imageNetMean[c]) / imageNetStd[c]
            }
        }
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                lut.withUnsafeBufferPointer { lut in
                    for i in 0..<plane {
                        dst[i] = lut[Int(src[3 * i])]
                        dst[plane + i] = lut[256 + Int(src[3 * i + 1])]
                        dst[2 * plane + i] = lut[512 + Int(src[3 * i + 2])]
                    }
                }
            }
        }
        return out
    }
}
