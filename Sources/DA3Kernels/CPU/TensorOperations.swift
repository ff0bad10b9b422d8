/// Small whole-tensor operations of the CPU backend.
extension Tensor {
    /// Element-wise ReLU copy.
    func relu() -> Tensor {
        var out = Tensor(uninitialized: shape)
        data.withUnsafeBufferPointer { x in
            out.data.withUnsafeMutableBufferPointer { Elementwise.relu(x.baseAddress!, into: $0.baseAddress!, count: $0.count) }
        }
        return out
    }

    /// self += other (same shape).
    mutating func add(_ other: Tensor) {
        precondition(shape == other.shape)
        other.data.withUnsafeBufferPointer { o in
            data.withUnsafeMutableBufferPointer { Elementwise.add(o.baseAddress!, into: $0.baseAddress!, count: $0.count) }
        }
    }

    /// Bilinear align_corners=True resize of a (C, H, W) map.
    func resizedBilinear(height outH: Int, width outW: Int) -> Tensor {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        if h == outH && w == outW { return self }
        var y = Tensor(uninitialized: [c, outH, outW])
        data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                Resize.bilinearAlignCorners(xp.baseAddress!, channels: c, height: h, width: w,
                                            outHeight: outH, outWidth: outW, into: yp.baseAddress!)
            }
        }
        return y
    }
}

extension Tensor {
    /// cat(a[rows], b[rows]) along channels for two (tokens, D) tensors.
    static func concatenateRows(_ a: Tensor, _ b: Tensor, rows: Range<Int>) -> Tensor {
        let d = a.shape[1], first = rows.lowerBound
        var out = Tensor(uninitialized: [rows.count, 2 * d])
        out.data.withUnsafeMutableBufferPointer { o in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    let io = UncheckedBox((o.baseAddress!, ap.baseAddress!, bp.baseAddress!))
                    Parallel.forEachChunk(rows.count, costPerItem: 2 * d) { range in
                        let (o, a, b) = io.value
                        for r in range {
                            (o + r * 2 * d).update(from: a + (r + first) * d, count: d)
                            (o + r * 2 * d + d).update(from: b + (r + first) * d, count: d)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Adds separable tables to a (C, h, w) map: channel c < C/2 gets `columns[c * w + x]`, channel
    /// c >= C/2 gets `rows[(c - C/2) * h + y]` (the DualDPT head's UV embedding).
    mutating func addSeparableTables(columns colTable: [Float], rows rowTable: [Float]) {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        data.withUnsafeMutableBufferPointer { xb in
            let xp = UncheckedBox(xb.baseAddress!)
            Parallel.forEachChunk(c, costPerItem: h * w) { range in
                for ch in range {
                    let plane = xp.value + ch * h * w
                    if ch < c / 2 {
                        let col = ch * w
                        for y in 0..<h { for xx in 0..<w { plane[y * w + xx] += colTable[col + xx] } }
                    } else {
                        let row = (ch - c / 2) * h
                        for y in 0..<h {
                            let e = rowTable[row + y]
                            for xx in 0..<w { plane[y * w + xx] += e }
                        }
                    }
                }
            }
        }
    }
}
