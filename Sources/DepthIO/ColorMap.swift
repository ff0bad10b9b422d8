import Foundation

/// Colour maps for depth visualisation, as 256-entry RGB tables computed from formulas.
public enum ColorMap: String, Sendable, CaseIterable {
    /// matplotlib `Spectral` (the official DA3 visualisation): linear interpolation of the 11 ColorBrewer colours.
    case spectral
    /// Google's Turbo (the authors' degree-5 polynomial approximation; up to ~30 levels off at the very ends).
    case turbo
    /// matplotlib `viridis` (degree-6 polynomial fit).
    case viridis
    /// matplotlib `inferno` (degree-6 polynomial fit).
    case inferno
    /// Black to white.
    case gray

    /// 256 entries of (r, g, b) for t = 0/255 ... 255/255.
    public var table: [(UInt8, UInt8, UInt8)] {
        (0..<256).map { i in
            let c = color(Double(i) / 255)
            func q(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
            return (q(c.0), q(c.1), q(c.2))
        }
    }

    /// The colour at `t` in 0...1 (components in 0...1).
    public func color(_ t: Double) -> (Double, Double, Double) {
        let x = max(0, min(1, t))
        switch self {
        case .gray: return (x, x, x)
        case .spectral:
            let stops: [(Double, Double, Double)] = [
                (0x9e, 0x01, 0x42), (0xd5, 0x3e, 0x4f), (0xf4, 0x6d, 0x43), (0xfd, 0xae, 0x61), (0xfe, 0xe0, 0x8b),
                (0xff, 0xff, 0xbf), (0xe6, 0xf5, 0x98), (0xab, 0xdd, 0xa4), (0x66, 0xc2, 0xa5), (0x32, 0x88, 0xbd),
                (0x5e, 0x4f, 0xa2)]
            let pos = x * Double(stops.count - 1)
            let i = min(Int(pos), stops.count - 2), f = pos - Double(i)
            let a = stops[i], b = stops[i + 1]
            return ((a.0 + (b.0 - a.0) * f) / 255, (a.1 + (b.1 - a.1) * f) / 255, (a.2 + (b.2 - a.2) * f) / 255)
        case .turbo:
            let p = [1, x, x * x, x * x * x, x * x * x * x, x * x * x * x * x]
            func dot(_ c: [Double]) -> Double { zip(c, p).reduce(0) { $0 + $1.0 * $1.1 } }
            return (dot([0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943]),
                    dot([0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604]),
                    dot([0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973]))
        case .viridis:
            return Self.poly(x, [
                (0.2777273272234177, 0.005407344544966578, 0.3340998053353061),
                (0.1050930431085774, 1.404613529898575, 1.384590162594685),
                (-0.3308618287255563, 0.214847559468213, 0.09509516302823659),
                (-4.634230498983486, -5.799100973351585, -19.33244095627987),
                (6.228269936347081, 14.17993336680509, 56.69055260068105),
                (4.776384997670288, -13.74514537774601, -65.35303263337234),
                (-5.435455855934631, 4.645852612178535, 26.3124352495832)])
        case .inferno:
            return Self.poly(x, [
                (0.0002189403691192265, 0.001651004631001012, -0.01948089843709184),
                (0.1065134194856116, 0.5639564367884091, 3.932712388889277),
                (11.60249308247187, -3.972853965665698, -15.9423941062914),
                (-41.70399613139459, 17.43639888205313, 44.35414519872813),
                (77.162935699427, -33.40235894210092, -81.80730925738993),
                (-71.31942824499214, 32.62606426397723, 73.20951985803202),
                (25.13112622477341, -12.24266895238567, -23.07032500287172)])
        }
    }

    private static func poly(_ x: Double, _ c: [(Double, Double, Double)]) -> (Double, Double, Double) {
        var r = 0.0, g = 0.0, b = 0.0
        for k in stride(from: c.count - 1, through: 0, by: -1) {
            r = r * x + c[k].0; g = g * x + c[k].1; b = b * x + c[k].2
        }
        return (max(0, min(1, r)), max(0, min(1, g)), max(0, min(1, b)))
    }
}
