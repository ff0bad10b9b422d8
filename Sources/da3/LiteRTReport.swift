import DepthAnything3
import Foundation

/// The `"litert"` object of `da3 depth --json`: where the graph ran and how it was split.
enum LiteRTReport {
    static func json(_ estimator: LiteRTDepthEstimator) -> [String: Any] {
        let m = estimator.model
        var j: [String: Any] = [
            "accelerator": m.accelerator.rawValue,
            "adapter": m.adapter ?? NSNull(),
            "fully_accelerated": m.fullyAccelerated,
            "input_layout": estimator.inputLayout.rawValue,
            "depth_output": estimator.depthOutput.description,
        ]
        if let p = m.gpuPrecision { j["gpu_precision"] = p.rawValue }
        if let g = m.delegation.gpuOperations, let c = m.delegation.cpuOperations {
            j["gpu_operations"] = g
            j["cpu_operations"] = c
        }
        if !m.delegation.refusals.isEmpty {
            j["rejected_operators"] = m.delegation.refusals.map { ["op": $0.op, "reason": $0.reason, "count": $0.count] as [String: Any] }
        }
        return j
    }
}
