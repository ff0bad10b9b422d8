import DA3Model
import Foundation
import SafeTensors

/// Whether a checkpoint is loaded as a nested model (`NestedDepthAnything3Net`).
enum NestedModelLoading {
    /// Maps a checkpoint: populated up front when small (one system call instead of a page fault per
    /// 4 KB), faulted in as read when over 2 GB (Giant, Nested: the whole file would sit in the
    /// resident set beside the packed weights otherwise).
    static func open(_ url: URL) throws -> SafeTensorsFile {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return try SafeTensorsFile(url: url, populate: size < 2_000_000_000)
    }

    /// The nested preset when `config` names one, else when the tensors hold both branches (read
    /// from the header alone: no weight page is touched, so a load through the weight cache stays cheap).
    static func isNested(_ config: ModelConfig?, _ url: URL) throws -> Bool {
        if let config { return config.metricBranch != nil }
        let file = try SafeTensorsFile(url: url, populate: false)
        return file.tensors["model.da3_metric.backbone.pretrained.patch_embed.proj.weight"] != nil
    }
}

extension NestedDepthAnything3Net: DepthNetwork {
    public var deviceLabel: String { anyview.deviceLabel }

    public func checkedForward(_ image: [Float], height: Int, width: Int, observer: StageObserver?,
                               captureFullResolution: Bool) throws -> NetworkOutput {
        let out = try forward(image, height: height, width: width, observer: observer, captureFullResolution: captureFullResolution)
        if let vulkan = anyview.backend as? VulkanBackend, let failure = vulkan.takeFailure() { throw failure }
        return out
    }
}
