extension Preprocessor {
    /// Size after the boundary resize only (before rounding or cropping to multiples of 14): the
    /// intermediate size at which the official processor first rescales given intrinsics.
    public func boundaryResizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard let b = boundarySize(width: width, height: height) else { return (width, height) }
        return (b.width, b.height)
    }

    /// Given intrinsics (row-major 3x3, pixels of a `width` x `height` input) adjusted as the official
    /// input processor does (`_resize_ixt`, `_crop_ixt`): rows scaled by each resize, principal point
    /// shifted by a crop. Float64 arithmetic, as numpy.
    public func adjustedIntrinsics(_ k: [Double], width: Int, height: Int) -> [Double] {
        var k = k
        func scale(_ sx: Double, _ sy: Double) {
            for c in 0..<3 { k[c] *= sx; k[3 + c] *= sy }
        }
        let b = boundaryResizedSize(width: width, height: height)
        scale(Double(b.width) / Double(width), Double(b.height) / Double(height))
        let out = outputSize(width: width, height: height)
        if method.crops {
            k[2] -= Double((b.width - out.width) / 2)
            k[5] -= Double((b.height - out.height) / 2)
        } else {
            scale(Double(out.width) / Double(b.width), Double(out.height) / Double(b.height))
        }
        return k
    }
}
