import DA3Kernels

/// One forward pass on a `VulkanBackend`. The first pass of an input size records (allocating its
/// buffers and appending dispatches); later passes replay: each call returns the buffers recorded
/// for it and does no Vulkan work, the image goes into the recorded input buffer, and `host`
/// submits the recorded command buffer covering everything since the previous `host`.
public final class VulkanExecution: BackendExecution {
    public typealias Backend = VulkanBackend

    let backend: VulkanBackend
    private var recording: VulkanRecording?
    private var replaying = false
    private var cursor = 0
    private var executedOps = 0
    private var failed = false

    init(backend: VulkanBackend) { self.backend = backend }

    deinit {
        if let recording {
            backend.lock.withLock {
                if failed {
                    backend.recordings = backend.recordings.filter { $0.value !== recording }
                } else {
                    recording.complete = true
                }
            }
        }
        backend.passSemaphore.signal()
    }

    private var device: VulkanDevice { backend.device }
    private var lib: VulkanKernelLibrary { backend.library }

    // MARK: Recording machinery

    private func fail(_ error: Error) {
        if !failed { backend.record(error) }
        failed = true
    }

    /// Runs one model call: replayed (its recorded buffers), or recorded by `body`, which gets the
    /// buffers holding `constants` and returns the call's output buffers.
    private func perform(constants: [[Float]] = [], _ body: (VulkanRecording, [VulkanBuffer]) throws -> [VulkanBuffer]) -> [VulkanBuffer]? {
        guard !failed, let rec = recording else { return nil }
        do {
            if replaying {
                guard cursor < rec.calls.count else { throw VulkanError.invalidArgument("pass diverged from its recording") }
                let call = rec.calls[cursor]
                for (i, (buffer, values)) in call.constants.enumerated() where values != constants[i] {
                    try buffer.write(constants[i])
                }
                cursor += 1
                return call.outputs
            }
            var uploaded: [(VulkanBuffer, [Float])] = []
            for values in constants { uploaded.append((try VulkanBuffer(device: device, values: values), values)) }
            let outputs = try body(rec, uploaded.map(\.0))
            rec.calls.append(VulkanRecording.Call(outputs: outputs, constants: uploaded, opEnd: rec.ops.count))
            cursor += 1
            return outputs
        } catch {
            fail(error)
            return nil
        }
    }

    /// Appends an operation to the recording. It gets the kernel library as an argument so that it
    /// captures no execution (the recording outlives this pass).
    private func encode(_ rec: VulkanRecording, _ op: @escaping (VulkanSequence, VulkanKernelLibrary) throws -> Void) {
        let lib = backend.library
        rec.ops.append { try op($0, lib) }
    }

    private func fresh(_ count: Int, host: Bool = false) throws -> VulkanBuffer {
        try VulkanBuffer(device: device, size: count * 4, location: host ? .host : .device)
    }

    /// The tensor's own buffer, or (when another tensor shares it) a fresh copy of it.
    private func writable(_ rec: VulkanRecording, _ x: inout VulkanTensor) throws -> VulkanBuffer {
        if isKnownUniquelyReferenced(&x.storage) { return x.buffer }
        let src = x.buffer, copy = try fresh(x.count), bytes = x.count * 4
        encode(rec) { seq, _ in seq.copy(from: src, to: copy, bytes: bytes) }
        x = VulkanTensor(shape: x.shape, buffer: copy)
        return copy
    }

    private func tensor(_ shape: [Int], _ outputs: [VulkanBuffer]?, _ index: Int = 0) -> VulkanTensor {
        VulkanTensor(shape: shape, buffer: outputs?[index] ?? lib.placeholder)
    }

    /// An in-place call on `x`: records `body` on x's (writable) buffer, or replays it.
    private func mutate(_ x: inout VulkanTensor, constants: [[Float]] = [],
                        _ body: (VulkanRecording, VulkanBuffer, [VulkanBuffer]) throws -> Void) {
        let outputs = perform(constants: constants) { rec, consts in
            let b = try writable(rec, &x)
            try body(rec, b, consts)
            return [b]
        }
        x = tensor(x.shape, outputs)
    }

    /// Submits the recorded operations not yet run (one command buffer, recorded once per stretch).
    private func runPending() throws {
        guard let rec = recording else { return }
        let end = cursor == 0 ? 0 : rec.calls[cursor - 1].opEnd
        guard end > executedOps else { return }
        let range = executedOps..<end
        let segment: VulkanSequence
        if let s = rec.segments[range] {
            segment = s
        } else {
            segment = VulkanSequence(device: device)
            for op in rec.ops[range] { try op(segment) }
            rec.segments[range] = segment
        }
        try segment.run()
        executedOps = end
    }

    public func host(_ x: VulkanTensor) -> DA3Kernels.Tensor {
        guard !failed, let rec = recording else { return DA3Kernels.Tensor(zeros: x.shape) }
        do {
            try runPending()
            let buffer = x.buffer
            if buffer.isMapped { return DA3Kernels.Tensor(shape: x.shape, data: try buffer.read(Float.self, count: x.count)) }
            let key = ObjectIdentifier(buffer)
            let readBack: (staging: VulkanBuffer, copy: VulkanSequence)
            if let r = rec.readBacks[key] {
                readBack = r
            } else {
                let staging = try fresh(x.count, host: true)
                let copy = VulkanSequence(device: device)
                copy.copy(from: buffer, to: staging, bytes: x.count * 4)
                readBack = (staging, copy)
                rec.readBacks[key] = readBack
            }
            try readBack.copy.run()
            return DA3Kernels.Tensor(shape: x.shape, data: try readBack.staging.read(Float.self, count: x.count))
        } catch {
            fail(error)
            return DA3Kernels.Tensor(zeros: x.shape)
        }
    }

    // MARK: Backbone

    public func embedPatches(_ op: VulkanPatchEmbedding, image: [Float], height: Int, width: Int) -> VulkanTensor {
        let (gh, gw) = (height / op.patch, width / op.patch)
        let shape = [1 + gh * gw, op.dim]
        let key = height << 32 | width
        let rec: VulkanRecording = backend.lock.withLock {
            backend.recentSizes.removeAll { $0 == key }
            backend.recentSizes.append(key)
            if let r = backend.recordings[key], r.complete { return r }
            // Keep the buffers of the few most recent sizes only (passes run one at a time, so no
            // other pass is using an evicted recording).
            while backend.recentSizes.count > VulkanBackend.keptSizes {
                backend.recordings[backend.recentSizes.removeFirst()] = nil
            }
            let r = VulkanRecording()
            backend.recordings[key] = r
            return r
        }
        recording = rec
        replaying = rec.complete
        do {
            if replaying {
                try rec.image!.write(image)
            } else {
                let img = try fresh(image.count, host: true)
                try img.write(image)
                rec.image = img
            }
        } catch {
            fail(error)
        }
        let outputs = perform { rec, _ in
            let img = rec.image!, out = try fresh(shape[0] * shape[1])
            let (dim, patch, w, b) = (op.dim, op.patch, op.weight, op.bias)
            encode(rec) { seq, lib in
                seq.fill(out, bytes: dim * 4)
                try seq.patchEmbed(lib, image: img, channels: 3, gridHeight: gh, gridWidth: gw, weight: w, bias: b,
                                   dim: dim, patch: patch, rowOffset: 1, y: out)
            }
            return [out]
        }
        return tensor(shape, outputs)
    }

    public func startTokens(_ x: inout VulkanTensor, classToken: [Float], positionEmbedding: [Float]) {
        let (t, d) = (x.shape[0], x.shape[1])
        mutate(&x, constants: [classToken, positionEmbedding]) { rec, b, c in
            let (cls, pos) = (c[0], c[1])
            encode(rec) { seq, lib in
                try seq.copy2D(lib, x: cls, srcStride: d, y: b, dstStride: d, rows: 1, cols: d)
                try seq.elementwise(lib, .add, a: b, b: pos, count: t * d, y: b)
            }
        }
    }

    public func setRow(_ x: inout VulkanTensor, _ row: Int, to values: [Float]) {
        let d = x.shape[1]
        mutate(&x, constants: [values]) { rec, b, c in
            let v = c[0]
            encode(rec) { seq, lib in try seq.copy2D(lib, x: v, srcStride: d, y: b, dstOffset: row * d, dstStride: d, rows: 1, cols: d) }
        }
    }

    private func scratch(_ rec: VulkanRecording, tokens: Int, dim: Int, heads: Int = 0) throws -> VulkanBlockScratch {
        let hidden = max(backend.lock.withLock { backend.maxHidden }, 4 * dim)
        if let s = rec.scratch, s.tokens == tokens, s.dim >= dim, s.hidden >= hidden, s.fp16 == backend.fp16,
           heads == 0 || !device.prefersLaneGEMM || s.scoreHeads >= heads { return s }
        let s = try VulkanBlockScratch(device: device, tokens: tokens, dim: dim, hidden: hidden, heads: heads, fp16: backend.fp16)
        rec.scratch = s
        return s
    }

    private func rope(_ rec: VulkanRecording, positions: [(Int, Int)], tables: RoPE2D) throws -> VulkanRoPE {
        let flat = positions.flatMap { [$0.0, $0.1] } + [tables.axisDim, tables.maxPosition]
        if let r = rec.ropes.first(where: { $0.0 == flat }) { return r.1 }
        let r = try VulkanRoPE(device: device, positions: positions, tables: tables)
        rec.ropes.append((flat, r))
        return r
    }

    public func attention(_ op: VulkanAttentionBranch, _ x: inout VulkanTensor, positions: [(Int, Int)], rope ropeTables: RoPE2D) {
        let (t, d) = (x.shape[0], x.shape[1])
        mutate(&x) { rec, b, _ in
            let s = try self.scratch(rec, tokens: t, dim: d, heads: op.heads)
            let r = op.usesRoPE ? try self.rope(rec, positions: positions, tables: ropeTables) : nil
            encode(rec) { seq, lib in try op.encode(seq, lib, x: b, scratch: s, rope: r) }
        }
    }

    public func mlp(_ op: VulkanMLPBranch, _ x: inout VulkanTensor) {
        let (t, d) = (x.shape[0], x.shape[1])
        mutate(&x) { rec, b, _ in
            let s = try self.scratch(rec, tokens: t, dim: d)
            encode(rec) { seq, lib in try op.encode(seq, lib, x: b, scratch: s) }
        }
    }

    public func endTransformer() {}

    public func concatenate(_ a: VulkanTensor, _ b: VulkanTensor, rows: Range<Int>, normalizingSecond norm: VulkanLayerNorm?) -> VulkanTensor {
        let d = a.shape[1], n = rows.count
        let (ab, bb) = (a.buffer, b.buffer)
        let outputs = perform { rec, _ in
            // A single row is the camera token, read on the host: keep it in mapped memory.
            let out = try fresh(n * 2 * d, host: n == 1)
            encode(rec) { seq, lib in
                try seq.copy2D(lib, x: ab, srcOffset: rows.lowerBound * d, srcStride: d, y: out, dstStride: 2 * d, rows: n, cols: d)
                if let norm {
                    try seq.layerNorm(lib, x: bb, inOffset: rows.lowerBound * d, rows: n, width: d, inStride: d, outStride: 2 * d,
                                      weight: norm.weight, bias: norm.bias, eps: norm.eps, y: out, outOffset: d)
                } else {
                    try seq.copy2D(lib, x: bb, srcOffset: rows.lowerBound * d, srcStride: d, y: out, dstOffset: d,
                                   dstStride: 2 * d, rows: n, cols: d)
                }
            }
            return [out]
        }
        return tensor([n, 2 * d], outputs)
    }

    // MARK: Head

    public func project(_ tokens: inout VulkanTensor, norm: VulkanLayerNorm, _ op: VulkanLinear, height: Int, width: Int) -> VulkanTensor {
        let (n, c) = (tokens.shape[0], tokens.shape[1])
        let outputs = perform { rec, _ in
            let t = try self.writable(rec, &tokens)
            let out = try self.fresh(op.outFeatures * n)
            encode(rec) { seq, lib in
                try seq.layerNorm(lib, x: t, rows: n, width: c, weight: norm.weight, bias: norm.bias, eps: norm.eps, y: t)
                try op.encodePlanar(seq, lib, x: t, rows: n, y: out)
            }
            return [out]
        }
        return tensor([op.outFeatures, height, width], outputs)
    }

    public func addPositionTables(_ x: inout VulkanTensor, columns: [Float], rows: [Float]) {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        mutate(&x, constants: [columns, rows]) { rec, b, t in
            let (cols, rws) = (t[0], t[1])
            encode(rec) { seq, lib in try seq.addPositionTables(lib, x: b, channels: c, height: h, width: w, columns: cols, rows: rws) }
        }
    }

    public func convTranspose(_ op: VulkanConvTranspose, _ x: VulkanTensor) -> VulkanTensor {
        let (h, w, s) = (x.shape[1], x.shape[2], op.stride)
        let xb = x.buffer
        let outputs = perform { rec, _ in
            let out = try self.fresh(op.outChannels * h * s * w * s)
            encode(rec) { seq, lib in try op.encode(seq, lib, x: xb, height: h, width: w, y: out) }
            return [out]
        }
        return tensor([op.outChannels, h * s, w * s], outputs)
    }

    public func conv(_ op: VulkanConv, _ x: VulkanTensor, reluInput: Bool, residual: VulkanTensor?) -> VulkanTensor {
        let (h, w) = (x.shape[1], x.shape[2])
        let (oh, ow) = op.outputSize(height: h, width: w)
        let xb = x.buffer, rb = residual?.buffer
        let outputs = perform { rec, _ in
            let out = try self.fresh(op.outChannels * oh * ow)
            encode(rec) { seq, lib in try op.encode(seq, lib, x: xb, height: h, width: w, reluInput: reluInput, residual: rb, y: out) }
            return [out]
        }
        return tensor([op.outChannels, oh, ow], outputs)
    }

    public func add(_ x: VulkanTensor, to y: inout VulkanTensor) {
        let xb = x.buffer, n = y.count
        mutate(&y) { rec, b, _ in
            encode(rec) { seq, lib in try seq.elementwise(lib, .add, a: b, b: xb, count: n, y: b) }
        }
    }

    private func encodeBilinear(_ rec: VulkanRecording, _ x: VulkanTensor, height: Int, width: Int) throws -> VulkanBuffer {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let xb = x.buffer, out = try fresh(c * height * width)
        encode(rec) { seq, lib in
            try seq.bilinearAlignCorners(lib, x: xb, channels: c, height: h, width: w, outHeight: height, outWidth: width, y: out)
        }
        return out
    }

    public func resizeBilinear(_ x: VulkanTensor, height: Int, width: Int) -> VulkanTensor {
        let outputs = perform { rec, _ in [try self.encodeBilinear(rec, x, height: height, width: width)] }
        return tensor([x.shape[0], height, width], outputs)
    }

    public func upsampledConvolution(_ op: VulkanConv, _ x: VulkanTensor, height: Int, width: Int) -> VulkanTensor {
        let (oh, ow) = op.outputSize(height: height, width: width)
        let outputs = perform { rec, _ in
            let up = try self.encodeBilinear(rec, x, height: height, width: width)
            let out = try self.fresh(op.outChannels * oh * ow)
            encode(rec) { seq, lib in try op.encode(seq, lib, x: up, height: height, width: width, y: out) }
            return [out]
        }
        return tensor([op.outChannels, oh, ow], outputs)
    }

    public func outputStage(_ op: VulkanOutputStage, _ x: VulkanTensor, height: Int, width: Int, columns: [Float], rows: [Float],
                            intermediates: Bool) -> OutputStageResult<VulkanTensor> {
        let c = x.shape[0], plane = height * width, hidden = op.conv3x3.outChannels
        let outputs = perform(constants: [columns, rows]) { rec, t in
            let (cols, rws) = (t[0], t[1])
            let up = try self.encodeBilinear(rec, x, height: height, width: width)
            let mid = try self.fresh(hidden * plane), logits = try self.fresh(2 * plane)
            let depth = try self.fresh(plane, host: true), confidence = try self.fresh(plane, host: true)
            encode(rec) { seq, lib in
                try seq.addPositionTables(lib, x: up, channels: c, height: height, width: width, columns: cols, rows: rws)
                try op.conv3x3.encode(seq, lib, x: up, height: height, width: width, reluOutput: true, y: mid)
                try op.conv1x1.encode(seq, lib, x: mid, height: height, width: width, y: logits)
                try seq.elementwise(lib, .exp, a: logits, count: plane, y: depth)
                try seq.elementwise(lib, .expPlusOne, a: logits, aOffset: plane, count: plane, y: confidence)
            }
            return [depth, confidence, up, logits]
        }
        return OutputStageResult(
            depth: tensor([height, width], outputs, 0), confidence: tensor([height, width], outputs, 1),
            upsampled: intermediates ? tensor([c, height, width], outputs, 2) : nil,
            logits: intermediates ? tensor([2, height, width], outputs, 3) : nil)
    }
}
