import DA3TestSupport
import Foundation
import XCTest

/// Proves the Swift synthetic generator reproduces tools/reference/synthetic.py bit for bit,
/// using Tests/Fixtures/synthetic/samples.json and the tiny checkpoint written by make_goldens.py.
final class SyntheticTests: XCTestCase {
    private func loadSamples() throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.url("synthetic/samples.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private static func u64(_ any: Any?) -> UInt64? {
        if let s = any as? String { return UInt64(s) }
        if let n = any as? NSNumber { return n.uint64Value }
        return nil
    }

    private static func ints(_ any: Any?) -> [Int] {
        ((any as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.intValue }
    }

    /// Sum and position-weighted sum of the Float32 bit patterns, mod 2^64 (as the Python side).
    private static func bitChecksums(_ v: [Float]) -> (UInt64, UInt64) {
        var s: UInt64 = 0, w: UInt64 = 0
        for (i, x) in v.enumerated() {
            let b = UInt64(x.bitPattern)
            s = s &+ b
            w = w &+ b &* UInt64(i % 251 + 1)
        }
        return (s, w)
    }

    func testWeightsMatchPythonBitForBit() throws {
        let samples = try loadSamples()
        let entries = try XCTUnwrap(samples["weights"] as? [[String: Any]])
        XCTAssertGreaterThan(entries.count, 10)
        for e in entries {
            let key = try XCTUnwrap(e["key"] as? String)
            let shape = Self.ints(e["shape"])
            XCTAssertEqual(SyntheticWeights.fnv1a64(key), Self.u64(e["seed"]), "seed \(key)")
            let (scale, offset) = SyntheticWeights.scaleOffset(key: key, shape: shape)
            XCTAssertEqual(Int(scale.bitPattern), (e["scale_bits"] as? NSNumber)?.intValue, "scale \(key)")
            XCTAssertEqual(Int(offset.bitPattern), (e["offset_bits"] as? NSNumber)?.intValue, "offset \(key)")

            let v = SyntheticWeights.values(key: key, shape: shape)
            XCTAssertEqual(v.count, shape.reduce(1, *))
            let first = Self.ints(e["first_bits"])
            XCTAssertEqual(v.prefix(first.count).map { Int($0.bitPattern) }, first, "first values \(key)")
            let (s, w) = Self.bitChecksums(v)
            XCTAssertEqual(s, Self.u64(e["bits_sum"]), "bits_sum \(key)")
            XCTAssertEqual(w, Self.u64(e["bits_weighted_sum"]), "bits_weighted_sum \(key)")
            let sum = v.reduce(0.0) { $0 + Double($1) }
            let ref = try XCTUnwrap((e["sum"] as? NSNumber)?.doubleValue)
            XCTAssertEqual(sum, ref, accuracy: 1e-9 * max(1, abs(ref)), "sum \(key)")
        }
    }

    func testImageMatchesPythonBitForBit() throws {
        let samples = try loadSamples()
        let images = try XCTUnwrap(samples["images"] as? [[String: Any]])
        XCTAssertGreaterThan(images.count, 3)
        for e in images {
            let w = try XCTUnwrap((e["width"] as? NSNumber)?.intValue)
            let h = try XCTUnwrap((e["height"] as? NSNumber)?.intValue)
            let rgb = SyntheticImage.rgb(width: w, height: h)
            XCTAssertEqual(rgb.count, w * h * 3)
            var sum = 0, weighted = 0
            for (i, p) in rgb.enumerated() {
                sum += Int(p)
                weighted += Int(p) * (i % 251 + 1)
            }
            XCTAssertEqual(sum, (e["rgb_sum"] as? NSNumber)?.intValue, "rgb sum \(w)x\(h)")
            XCTAssertEqual(weighted, (e["rgb_weighted_sum"] as? NSNumber)?.intValue, "rgb weighted \(w)x\(h)")
            let first = Self.ints(e["rgb_first"])
            XCTAssertEqual(rgb.prefix(first.count).map { Int($0) }, first, "rgb first \(w)x\(h)")

            let n = SyntheticImage.normalized(width: w, height: h)
            XCTAssertEqual(n.count, 3 * w * h)
            let nFirst = Self.ints(e["normalized_first_bits"])
            XCTAssertEqual(n.prefix(nFirst.count).map { Int($0.bitPattern) }, nFirst, "normalized first \(w)x\(h)")
            XCTAssertEqual(Self.bitChecksums(n).1, Self.u64(e["normalized_bits_weighted_sum"]),
                           "normalized checksum \(w)x\(h)")
        }
    }

    /// The tiny golden's `input` tensor is exactly SyntheticImage.normalized.
    func testTinyGoldenInputIsSyntheticImage() throws {
        for (h, w) in [(70, 56), (84, 84)] {
            let file = try MiniSafeTensors(url: Fixtures.url("tiny/goldens_\(h)x\(w).safetensors"))
            let input = try file.floats("input")
            XCTAssertEqual(input.shape, [3, h, w])
            XCTAssertEqual(input.values.map(\.bitPattern),
                           SyntheticImage.normalized(width: w, height: h).map(\.bitPattern))
        }
    }

    /// Every tensor of the tiny checkpoint is the synthetic value of its key, rounded to the
    /// stored dtype (F32 exact; F16 / BF16 within half an ulp of that format).
    func testTinyCheckpointIsSyntheticRounded() throws {
        let file = try MiniSafeTensors(url: Fixtures.url("tiny/model.safetensors"))
        var seen: [String: Int] = [:]
        XCTAssertGreaterThan(file.names.count, 300)
        for name in file.names {
            let t = try file.floats(name)
            seen[t.dtype, default: 0] += 1
            let ref = SyntheticWeights.values(key: name, shape: t.shape)
            XCTAssertEqual(ref.count, t.values.count, name)
            switch t.dtype {
            case "F32":
                XCTAssertEqual(t.values.map(\.bitPattern), ref.map(\.bitPattern), name)
            case "F16", "BF16":
                let rel: Float = t.dtype == "F16" ? 1.0 / 2048 : 1.0 / 256
                let absFloor: Float = t.dtype == "F16" ? 1.0 / 33_554_432 : 0
                for (a, b) in zip(t.values, ref) where abs(a - b) > max(abs(b) * rel, absFloor) {
                    XCTFail("\(name) [\(t.dtype)]: stored \(a) vs synthetic \(b)")
                    break
                }
            default:
                XCTFail("unexpected dtype \(t.dtype) for \(name)")
            }
        }
        XCTAssertGreaterThan(seen["F16"] ?? 0, 0)
        XCTAssertGreaterThan(seen["BF16"] ?? 0, 0)
        XCTAssertGreaterThan(seen["F32"] ?? 0, 0)
    }

    func testMetrics() {
        let b: [Float] = [1, 2, 3, 4]
        XCTAssertEqual(Metrics.pearson(b, b), 1, accuracy: 1e-12)
        XCTAssertEqual(Metrics.pearson(b, b.map { -2 * $0 + 1 }), -1, accuracy: 1e-12)
        XCTAssertEqual(Metrics.pearson(b, [5, 5, 5, 5]), 0)
        XCTAssertEqual(Metrics.maxRelativeError([1, 2, 3, 4.4], reference: b), 0.1, accuracy: 1e-6)
        XCTAssertEqual(Metrics.maxRelativeError(b, reference: b), 0)
        XCTAssertTrue(Metrics.maxRelativeError([.nan, 2, 3, 4], reference: b).isNaN)
        XCTAssertEqual(Metrics.maxAbsoluteError([1, 2, 3, 4.5], reference: b), 0.5, accuracy: 1e-9)
        XCTAssertEqual(Metrics.nmse(b, reference: b), 0)
        XCTAssertEqual(Metrics.nmse([0, 0, 0, 0], reference: b), 1, accuracy: 1e-12)
        XCTAssertEqual(Metrics.nmse([0, 0], reference: [0, 0]), 0)
    }
}

/// A minimal safetensors reader for these tests (independent of the SafeTensors target, so a
/// fault there cannot mask a generator mismatch). Reads F32 / F16 / BF16 into Float.
private struct MiniSafeTensors {
    struct Tensor {
        var dtype: String
        var shape: [Int]
        var values: [Float]
    }

    let data: Data
    let headerEnd: Int
    let header: [String: Any]
    var names: [String] { header.keys.filter { $0 != "__metadata__" }.sorted() }

    init(url: URL) throws {
        data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw CocoaError(.fileReadCorruptFile) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        headerEnd = 8 + Int(n)
        let json = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        guard let h = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        header = h
    }

    func floats(_ name: String) throws -> Tensor {
        guard let info = header[name] as? [String: Any], let dtype = info["dtype"] as? String,
              let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
              let offsets = (info["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
        else { throw CocoaError(.fileReadCorruptFile) }
        let count = shape.reduce(1, *)
        let start = data.startIndex + headerEnd + offsets[0]
        let bytes = data.subdata(in: start..<(data.startIndex + headerEnd + offsets[1]))
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                switch dtype {
                case "F32":
                    values[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                case "F16":
                    values[i] = Self.half(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                case "BF16":
                    values[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                default:
                    values[i] = .nan
                }
            }
        }
        return Tensor(dtype: dtype, shape: shape, values: values)
    }

    /// IEEE binary16 -> Float (exact).
    static func half(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let exp = Int((h >> 10) & 0x1F)
        let frac = Float(h & 0x3FF)
        switch exp {
        case 0: return sign * frac * Float(sign: .plus, exponent: -24, significand: 1)
        case 31: return frac == 0 ? sign * .infinity : .nan
        default: return sign * (1 + frac / 1024) * Float(sign: .plus, exponent: exp - 15, significand: 1)
        }
    }
}
