import Dispatch

// Deterministic synthetic weights and input image; bit-exact twin of
// tools/reference/synthetic.py (which also writes the committed goldens). Change both together.
//
// Weights. For a tensor named `key` (the full checkpoint key, e.g.
// "model.backbone.pretrained.blocks.0.attn.qkv.weight") with shape `shape`:
//
//     seed = fnv1a64(utf8(key))
//     for flat (row-major) element index i:
//         z = seed &+ UInt64(i + 1) &* 0x9E3779B97F4A7C15
//         z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
//         z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
//         z ^= z >> 31
//         u = Float(z >> 40) / 16777216          exact, in [0, 1)
//         r = 2 * u - 1                          exact, in [-1, 1)
//         value = (r * scale) + offset           Float multiply, then Float add (no FMA)
//
// scale / offset (Float) from `scaleOffset(key:shape:)`, first matching rule wins
// (uniform on [-1, 1) has std 1/sqrt(3)):
//   1. key ends with "pos_embed"                       scale 0.5,  offset 0
//   2. key ends with "cls_token" or "camera_token"     scale 0.5,  offset 0
//   3. key ends with ".gamma" (LayerScale)             scale 0.1,  offset 0.15  -> [0.05, 0.25)
//   4. key ends with ".weight", rank 1 (LayerNorm)     scale 0.1,  offset 1.0   -> [0.9, 1.1)
//   5. key ends with ".bias":
//        contains "cam_dec.fc_fov."                    scale 0.1,  offset 1.0   (fov ~ 1 rad)
//        contains "cam_dec.fc_qvec."                   scale 0.1,  offset 0.5   (|q| away from 0)
//        contains "head.scratch.output_conv2.2."       scale 0.1,  offset 0.5   (log-depth mean)
//        otherwise                                     scale 0.02, offset 0
//   6. any other tensor of rank >= 2 (Linear / Conv2d / ConvTranspose2d weight):
//        fanIn = shape[0]          if key contains "resize_layers.0." or "resize_layers.1."
//                                  (ConvTranspose2d (in, out, k, k), stride == kernel)
//              = prod(shape[1...]) otherwise
//        gain  = 0.25 if key contains "cam_dec.fc_"; 0.6 if key contains
//                "head.scratch.output_conv2.2."; 1.0 otherwise
//        scale = Float(gain * sqrt(3) / sqrt(Double(fanIn)))  (Double, then rounded), offset 0
//   7. anything else                                   scale 0.1,  offset 0
//
// Decimal constants are written as ratios of integers (e.g. 1.0 / 10.0): a correctly rounded
// Double division gives the same Double as Python's literal, and Float(...) then rounds it
// exactly as numpy's np.float32(0.1) does.

public enum SyntheticWeights {
    /// FNV-1a 64-bit hash of the UTF-8 bytes of `key`.
    public static func fnv1a64(_ key: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// Gain of the final 1x1 conv producing (log-depth, confidence logit).
    static let outGain: Double = 6.0 / 10.0

    private static func f(_ num: Double, _ den: Double) -> Float { Float(num / den) }

    /// The (scale, offset) rule documented above. Depends only on (key, shape).
    public static func scaleOffset(key: String, shape: [Int]) -> (scale: Float, offset: Float) {
        let rank = shape.count
        if key.hasSuffix("pos_embed") { return (f(1, 2), 0) }
        if key.hasSuffix("cls_token") || key.hasSuffix("camera_token") { return (f(1, 2), 0) }
        if key.hasSuffix(".gamma") { return (f(1, 10), f(15, 100)) }
        if key.hasSuffix(".weight") && rank == 1 { return (f(1, 10), 1) }
        if key.hasSuffix(".bias") {
            if key.contains("cam_dec.fc_fov.") { return (f(1, 10), 1) }
            if key.contains("cam_dec.fc_qvec.") { return (f(1, 10), f(1, 2)) }
            if key.contains("head.scratch.output_conv2.2.") { return (f(1, 10), f(1, 2)) }
            return (f(2, 100), 0)
        }
        if rank >= 2 {
            let fanIn: Int
            if key.contains("resize_layers.0.") || key.contains("resize_layers.1.") {
                fanIn = shape[0]
            } else {
                fanIn = shape.dropFirst().reduce(1, *)
            }
            let gain: Double
            if key.contains("cam_dec.fc_") {
                gain = 1.0 / 4.0
            } else if key.contains("head.scratch.output_conv2.2.") {
                gain = outGain
            } else {
                gain = 1.0
            }
            return (Float(gain * (3.0).squareRoot() / Double(fanIn).squareRoot()), 0)
        }
        return (f(1, 10), 0)
    }

    /// Raw r in [-1, 1) for element `index` of a tensor whose key hashes to `seed`.
    @inline(__always)
    static func uniformPM1(seed: UInt64, index: Int) -> Float {
        var z = seed &+ UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = Float(z >> 40) / 16_777_216
        return 2 * u - 1
    }

    /// The synthetic float32 values of tensor `key` (flat, row-major).
    public static func values(key: String, shape: [Int]) -> [Float] {
        let count = shape.reduce(1, *)
        precondition(count >= 0, "negative shape \(shape)")
        let seed = fnv1a64(key)
        let (scale, offset) = scaleOffset(key: key, shape: shape)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            // The chunks write disjoint ranges; pass the address as an integer to stay Sendable.
            let address = Int(bitPattern: buffer.baseAddress)
            let chunk = 1 << 16
            let chunks = (count + chunk - 1) / chunk
            let fill: @Sendable (Int) -> Void = { c in
                guard let base = UnsafeMutablePointer<Float>(bitPattern: address) else { return }
                let lo = c * chunk
                let hi = min(lo + chunk, count)
                var i = lo
                while i < hi {
                    let r = uniformPM1(seed: seed, index: i)
                    let p = r * scale
                    (base + i).initialize(to: p + offset)
                    i += 1
                }
            }
            if chunks > 1 {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: fill)
            } else if chunks == 1 {
                fill(0)
            }
            initialized = count
        }
    }
}

/// The synthetic input picture (integer formula) and its ImageNet normalization.
public enum SyntheticImage {
    /// ImageNet mean / std as float32, rounded from the Double values exactly as torch / numpy do.
    public static let mean: [Float] = [Float(485.0 / 1000.0), Float(456.0 / 1000.0), Float(406.0 / 1000.0)]
    public static let std: [Float] = [Float(229.0 / 1000.0), Float(224.0 / 1000.0), Float(225.0 / 1000.0)]

    /// uint8 RGB, HWC (height * width * 3). Integer-only; identical to synthetic.image_rgb.
    ///
    /// Coordinates map to a 256x256 virtual canvas: xs = x*256/W, ys = y*256/H.
    ///   sky    (ys < 100):  R = 70 + ys/2, G = 130 + ys/3, B = 235 - ys/4
    ///   ground (ys >= 100): g = ys - 100, t = (xs/16 + ys/16) % 2 (checker):
    ///                       R = 60 + g/2 + 20t, G = 90 + g/3 + 10t, B = 40 + g/5
    ///   box  (40 <= xs < 112, 60 <= ys < 190):   R = 200, G = 50 + (ys-60)/2, B = 40 + xs/4
    ///   disc ((xs-180)^2 + (ys-120)^2 < 45^2):  R = 30 + xs/8, G = 80 + ys/4, B = 190
    ///   dither d = ((7x + 13y) % 17) - 8 added to every channel, clamped to [0, 255].
    public static func rgb(width: Int, height: Int) -> [UInt8] {
        precondition(width > 0 && height > 0)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let ys = (y * 256) / height
            for x in 0..<width {
                let xs = (x * 256) / width
                var r: Int, g: Int, b: Int
                if ys < 100 {
                    r = 70 + ys / 2
                    g = 130 + ys / 3
                    b = 235 - ys / 4
                } else {
                    let gg = ys - 100
                    let t = (xs / 16 + ys / 16) % 2
                    r = 60 + gg / 2 + 20 * t
                    g = 90 + gg / 3 + 10 * t
                    b = 40 + gg / 5
                }
                if xs >= 40 && xs < 112 && ys >= 60 && ys < 190 {
                    r = 200
                    g = 50 + (ys - 60) / 2
                    b = 40 + xs / 4
                }
                let dx = xs - 180, dy = ys - 120
                if dx * dx + dy * dy < 45 * 45 {
                    r = 30 + xs / 8
                    g = 80 + ys / 4
                    b = 190
                }
                let d = ((x * 7 + y * 13) % 17) - 8
                let o = (y * width + x) * 3
                out[o] = UInt8(clamping: r + d)
                out[o + 1] = UInt8(clamping: g + d)
                out[o + 2] = UInt8(clamping: b + d)
            }
        }
        return out
    }

    /// float32 CHW (3 * height * width): Float(p) / 255, then (x - mean) / std, all in Float.
    public static func normalized(width: Int, height: Int) -> [Float] {
        let pixels = rgb(width: width, height: height)
        let plane = width * height
        var out = [Float](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let m = mean[c], s = std[c]
            for i in 0..<plane {
                let v = Float(pixels[i * 3 + c]) / 255
                out[c * plane + i] = (v - m) / s
            }
        }
        return out
    }
}
