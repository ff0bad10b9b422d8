import DA3Vulkan

/// Where the network runs: the CPU engine, or a Vulkan device (`vulkan`: the first discrete GPU,
/// else integrated, else any; `vulkan:N`: device N as `da3 devices` lists them).
public enum ComputeDevice: Sendable, Equatable, CustomStringConvertible {
    case cpu
    case vulkan(index: Int?)

    /// Parses `cpu`, `vulkan` or `vulkan:N`.
    public init(parsing text: String) throws {
        let t = text.lowercased()
        if t == "cpu" { self = .cpu; return }
        if t == "vulkan" { self = .vulkan(index: nil); return }
        if t.hasPrefix("vulkan:"), let n = Int(t.dropFirst("vulkan:".count)), n >= 0 { self = .vulkan(index: n); return }
        throw DeviceChoiceError(text: text)
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .vulkan(let index): return index.map { "vulkan:\($0)" } ?? "vulkan"
        }
    }
}

/// An unparseable device choice.
public struct DeviceChoiceError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "unknown device '\(text)' (expected cpu, vulkan or vulkan:N; `da3 devices` lists the Vulkan devices)" }
}

/// The loaded network behind a `DepthEstimator`, whichever backend runs it.
public protocol DepthNetwork: AnyObject, Sendable {
    /// The dimensions in use.
    var config: ModelConfig { get }
    /// "cpu", or "vulkan:N NAME" for the device that runs the network.
    var deviceLabel: String { get }
    /// One forward pass (see `DepthAnything3Net.forward`); throws where the backend failed during it.
    func checkedForward(_ image: [Float], height: Int, width: Int, observer: StageObserver?,
                        captureFullResolution: Bool) throws -> NetworkOutput
}

extension DepthNetwork {
    /// One pass without observer (tests and simple callers).
    public func forward(_ image: [Float], height: Int, width: Int) throws -> NetworkOutput {
        try checkedForward(image, height: height, width: width, observer: nil, captureFullResolution: true)
    }
}

extension DepthAnything3Net: DepthNetwork {
    public var deviceLabel: String {
        if let vulkan = backend as? VulkanBackend { return vulkan.label }
        return "cpu"
    }

    public func checkedForward(_ image: [Float], height: Int, width: Int, observer: StageObserver?,
                               captureFullResolution: Bool) throws -> NetworkOutput {
        let out = forward(image, height: height, width: width, observer: observer, captureFullResolution: captureFullResolution)
        if let vulkan = backend as? VulkanBackend, let failure = vulkan.takeFailure() { throw failure }
        return out
    }
}
