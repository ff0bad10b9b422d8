/// Bilinear (align_corners) upsampling of a (C, h, w) map to height x width, optionally plus the
/// UV embedding, followed by a 3x3 pad-1 convolution, computed in bands of output rows: the
/// upsampled map only ever exists one band (plus its one-row halo) at a time, which saves its
/// memory traffic and page faults (64 channels at 512 x 288 are 38 MB).
public struct UpsampledConvolution: Sendable {
    public let conv: Winograd3x3
    /// Output rows per band.
    public static let bandRows = 64

    public init(conv: Winograd3x3) { self.conv = conv }

    /// One band of convolution output: rows row0 ..< row0 + rows as `conv.outChannels` planes of
    /// `rows` x width starting at `interior`, planes `planeStride` floats apart.
    public struct Band {
        public let interior: UnsafeMutablePointer<Float>
        public let planeStride: Int
        public let row0: Int, rows: Int
    }

    /// Runs the stage over `x`, handing each band to `consume` in order. `uv` adds the UV embedding
    /// tables (from `UVEmbedding.tables`) after upsampling; `upsampled`, when given, receives the
    /// upsampled band rows (channels x rows, row stride width) for observers.
    public func forward(
        _ x: Tensor, height: Int, width: Int, uv: (col: [Float], row: [Float])? = nil,
        upsampled: ((_ rows: UnsafePointer<Float>, _ planeStride: Int, _ row0: Int, _ count: Int) -> Void)? = nil,
        consume: (Band) -> Void
    ) {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let rowTaps = Resize.alignCornersTaps(input: h, output: height)
        let columnTaps = Resize.AxisTaps(Resize.alignCornersTaps(input: w, output: width))
        let maxRows = min(Self.bandRows, height)
        var input = [Float](repeating: 0, count: c * (maxRows + 2) * width)
        var convolved = [Float](repeating: 0, count: conv.outChannels * (maxRows + 2) * width)
        var row0 = 0
        while row0 < height {
            let rows = min(Self.bandRows, height - row0)
            let haloRows = rows + 2
            // Upsampled rows row0-1 ... row0+rows (zero outside the image = the convolution's padding).
            x.data.withUnsafeBufferPointer { xb in
                input.withUnsafeMutableBufferPointer { ib in
                    let io = UncheckedBox((xb.baseAddress!, ib.baseAddress!))
                    Parallel.forEachChunk(c, costPerItem: haloRows * width * 3) { range in
                        for ch in range {
                            let out = io.value.1 + ch * haloRows * width
                            let src = io.value.0 + ch * h * w
                            func run(_ column: UnsafePointer<Float>?, _ row: UnsafePointer<Float>?) {
                                Resize.bilinearAlignCornersRows(src, height: h, width: w, rowTaps: rowTaps,
                                                                columnTaps: columnTaps, firstRow: row0 - 1, rows: haloRows,
                                                                columnAddend: column, rowAddend: row, into: out)
                            }
                            guard let uv else { run(nil, nil); continue }
                            // First half of the channels: a column table; second half: a row table.
                            if ch < c / 2 {
                                uv.col.withUnsafeBufferPointer { run($0.baseAddress! + ch * width, nil) }
                            } else {
                                uv.row.withUnsafeBufferPointer { run(nil, $0.baseAddress! + (ch - c / 2) * height) }
                            }
                        }
                    }
                }
            }
            if let upsampled {
                input.withUnsafeBufferPointer { upsampled($0.baseAddress! + width, haloRows * width, row0, rows) }
            }
            // The convolution over the band with its halo; its rows 1...rows are exact.
            input.withUnsafeBufferPointer { ib in
                convolved.withUnsafeMutableBufferPointer { cb in
                    conv.forward(ib.baseAddress!, height: haloRows, width: width, into: cb.baseAddress!)
                    consume(Band(interior: cb.baseAddress! + width, planeStride: haloRows * width, row0: row0, rows: rows))
                }
            }
            row0 += rows
        }
    }
}
