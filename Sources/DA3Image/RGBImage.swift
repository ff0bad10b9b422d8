// Mirrors the image object that the official pipeline carries around: a PIL `Image` in mode "RGB"
// (equivalently the HxWx3 uint8 numpy array that `np.asarray(img)` hands to `cv2.resize`).

/// 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B (HWC).
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` bytes, row-major, interleaved R,G,B.
    public var pixels: [UInt8]

    /// Wraps existing pixel data. `pixels.count` must equal `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition(pixels.count == width * height * 3, "pixel buffer does not match \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The three channel values of the pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// The sub-image `[x, x+w) x [y, y+h)`, like PIL `Image.crop((x, y, x+w, y+h))` inside the bounds.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height, "crop out of bounds")
        var out = [UInt8](repeating: 0, count: w * h * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h {
                    let s = ((y + row) * width + x) * 3
                    let d = row * w * 3
                    for i in 0..<(w * 3) { dst[d + i] = src[s + i] }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
