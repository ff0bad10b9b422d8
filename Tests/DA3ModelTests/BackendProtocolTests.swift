import XCTest
import DA3Kernels
import DA3Model
import DA3TestSupport
import Foundation
import SafeTensors

/// The model talks to its backend only through `ComputeBackend` / `BackendExecution`: a backend that
/// forwards to the CPU backend and logs every call gives the same output bit for bit, its calls for
/// one input size do not depend on the image (a GPU backend can record them once per size and replay),
/// and without an observer nothing is read back to the host before the end of the pass.
final class BackendProtocolTests: XCTestCase {
    /// The CPU backend behind a log of every preparation and operation (with the input shapes).
    final class TracingBackend: ComputeBackend, @unchecked Sendable {
        typealias Tensor = DA3Kernels.Tensor
        typealias PatchEmbeddingOp = CPUPatchEmbedding
        typealias AttentionOp = CPUAttention
        typealias MLPOp = CPUMLP
        typealias LayerNormOp = CPULayerNorm
        typealias ProjectionOp = CPUProjection
        typealias ConvOp = CPUConv
        typealias ConvTransposeOp = CPUConvTranspose
        typealias OutputStageOp = CPUOutputStage
        typealias Execution = TracingExecution

        let cpu: CPUBackend
        var log: [String] = []

        init(precision: Precision) throws { cpu = try CPUBackend(precision: precision) }

        func patchEmbedding(_ p: LinearParameters, from loader: any ParameterLoader) throws -> CPUPatchEmbedding {
            log.append("prepare patchEmbedding \(p.key)"); return try cpu.patchEmbedding(p, from: loader)
        }
        func attention(_ p: AttentionParameters, from loader: any ParameterLoader) throws -> CPUAttention {
            log.append("prepare attention \(p.qkv.key)"); return try cpu.attention(p, from: loader)
        }
        func mlp(_ p: MLPParameters, from loader: any ParameterLoader) throws -> CPUMLP {
            log.append("prepare mlp \(p.fc1.key)"); return try cpu.mlp(p, from: loader)
        }
        func layerNorm(_ p: LayerNormParameters, from loader: any ParameterLoader) throws -> CPULayerNorm {
            log.append("prepare layerNorm \(p.key)"); return try cpu.layerNorm(p, from: loader)
        }
        func projection(_ p: LinearParameters, from loader: any ParameterLoader) throws -> CPUProjection {
            log.append("prepare projection \(p.key)"); return try cpu.projection(p, from: loader)
        }
        func conv(_ p: ConvParameters, from loader: any ParameterLoader) throws -> CPUConv {
            log.append("prepare conv \(p.key)"); return try cpu.conv(p, from: loader)
        }
        func convTranspose(_ p: ConvTransposeParameters, from loader: any ParameterLoader) throws -> CPUConvTranspose {
            log.append("prepare convTranspose \(p.key)"); return try cpu.convTranspose(p, from: loader)
        }
        func outputStage(_ p: OutputStageParameters, from loader: any ParameterLoader) throws -> CPUOutputStage {
            log.append("prepare outputStage \(p.conv3x3.key)"); return try cpu.outputStage(p, from: loader)
        }
        func swiGLU(_ p: SwiGLUParameters, from loader: any ParameterLoader) throws -> CPUMLP {
            log.append("prepare swiGLU \(p.w12.key)"); return try cpu.swiGLU(p, from: loader)
        }
        func require(_ operation: BackendOperation) throws { log.append("require \(operation)") }
        func makeExecution() -> TracingExecution { TracingExecution(self) }
    }

    final class TracingExecution: BackendExecution {
        typealias Backend = TracingBackend
        let backend: TracingBackend, cpu: CPUExecution

        init(_ backend: TracingBackend) {
            self.backend = backend
            cpu = backend.cpu.makeExecution()
        }

        private func note(_ op: String, _ inputs: Tensor?...) {
            backend.log.append(op + " " + inputs.map { $0.map { "\($0.shape)" } ?? "-" }.joined(separator: " "))
        }

        func host(_ x: Tensor) -> Tensor { note("host", x); return cpu.host(x) }
        func embedPatches(_ op: CPUPatchEmbedding, image: [Float], height: Int, width: Int) -> Tensor {
            note("embedPatches \(height)x\(width)"); return cpu.embedPatches(op, image: image, height: height, width: width)
        }
        func startTokens(_ x: inout Tensor, classToken: [Float], positionEmbedding: [Float]) {
            note("startTokens", x); cpu.startTokens(&x, classToken: classToken, positionEmbedding: positionEmbedding)
        }
        func setRow(_ x: inout Tensor, _ row: Int, to values: [Float]) { note("setRow \(row)", x); cpu.setRow(&x, row, to: values) }
        func attention(_ op: CPUAttention, _ x: inout Tensor, positions: [(Int, Int)], rope: RoPE2D) {
            note("attention", x); cpu.attention(op, &x, positions: positions, rope: rope)
        }
        func mlp(_ op: CPUMLP, _ x: inout Tensor) { note("mlp", x); cpu.mlp(op, &x) }
        func endTransformer() { note("endTransformer"); cpu.endTransformer() }
        func concatenate(_ a: Tensor, _ b: Tensor, rows: Range<Int>, normalizingSecond norm: CPULayerNorm?) -> Tensor {
            note("concatenate \(rows) \(norm != nil)", a, b); return cpu.concatenate(a, b, rows: rows, normalizingSecond: norm)
        }
        func rows(_ x: Tensor, _ rows: Range<Int>) -> Tensor { note("rows", x); return cpu.rows(x, rows) }
        func project(_ tokens: inout Tensor, norm: CPULayerNorm, _ op: CPUProjection, height: Int, width: Int) -> Tensor {
            note("project", tokens); return cpu.project(&tokens, norm: norm, op, height: height, width: width)
        }
        func addPositionTables(_ x: inout Tensor, columns: [Float], rows: [Float]) {
            note("addPositionTables", x); cpu.addPositionTables(&x, columns: columns, rows: rows)
        }
        func convTranspose(_ op: CPUConvTranspose, _ x: Tensor) -> Tensor { note("convTranspose", x); return cpu.convTranspose(op, x) }
        func conv(_ op: CPUConv, _ x: Tensor, reluInput: Bool, residual: Tensor?) -> Tensor {
            note("conv relu=\(reluInput)", x, residual); return cpu.conv(op, x, reluInput: reluInput, residual: residual)
        }
        func add(_ x: Tensor, to y: inout Tensor) { note("add", x, y); cpu.add(x, to: &y) }
        func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
            note("resizeBilinear \(height)x\(width)", x); return cpu.resizeBilinear(x, height: height, width: width)
        }
        func upsampledConvolution(_ op: CPUConv, _ x: Tensor, height: Int, width: Int) -> Tensor {
            note("upsampledConvolution \(height)x\(width)", x); return cpu.upsampledConvolution(op, x, height: height, width: width)
        }
        func outputStage(_ op: CPUOutputStage, _ x: Tensor, height: Int, width: Int, columns: [Float], rows: [Float],
                         intermediates: Bool) -> OutputStageResult<Tensor> {
            note("outputStage \(height)x\(width) \(intermediates)", x)
            return cpu.outputStage(op, x, height: height, width: width, columns: columns, rows: rows, intermediates: intermediates)
        }
    }

    func testModelRunsUnchangedBehindAnotherBackend() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("tiny/model.safetensors"))
        for precision in Precision.fastAvailable ? [Precision.exact, .fast] : [.exact] {
            let reference = try DepthAnything3Network(checkpoint: file, config: TinyGoldenTests.tinyConfig, precision: precision)
            let backend = try TracingBackend(precision: precision)
            let traced = try DepthAnything3Net(checkpoint: file, config: TinyGoldenTests.tinyConfig, backend: backend)
            XCTAssertEqual(backend.log.filter { $0.hasPrefix("prepare attention") }.count, 12)
            XCTAssertEqual(backend.log.filter { $0.hasPrefix("prepare conv ") }.count, 1 + 4 + (3 * 2 + 1) * 2 + 4 + 1,
                           "downsample, layer_rn, the RCUs' convolutions, the fusion out_convs, output_conv1")

            let (height, width) = (70, 56)
            var logs: [[String]] = []
            for seed in [1, 2] {
                let image = (0..<(3 * height * width)).map { Float(($0 * 7919 + seed * 104_729) % 1000) / 500 - 1 }
                backend.log = []
                let out = traced.forward(image, height: height, width: width)
                let expected = reference.forward(image, height: height, width: width)
                XCTAssertEqual(out.depth, expected.depth, "\(precision): bit-identical depth")
                XCTAssertEqual(out.confidence, expected.confidence, "\(precision): bit-identical confidence")
                XCTAssertEqual(out.poseEncoding, expected.poseEncoding, "\(precision): bit-identical pose")
                logs.append(backend.log)
            }
            XCTAssertEqual(logs[0], logs[1], "the calls for one size do not depend on the image")
            let log = logs[0]
            let firstHost = try XCTUnwrap(log.firstIndex { $0.hasPrefix("host") })
            XCTAssertTrue(log[firstHost...].allSatisfy { $0.hasPrefix("host") }, "host reads only at the end: \(log[firstHost...])")
            XCTAssertEqual(log.filter { $0.hasPrefix("attention") }.count, 12)
            XCTAssertEqual(log.filter { $0.hasPrefix("upsampledConvolution") }.count, 1)
            XCTAssertEqual(log.filter { $0.hasPrefix("outputStage 70x56 false") }.count, 1)
        }
    }
}
