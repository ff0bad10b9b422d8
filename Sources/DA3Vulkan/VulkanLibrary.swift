import CVulkan
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Vulkan loader, opened with dlopen at run time (never linked), and its global entry points.
public final class VulkanLibrary: @unchecked Sendable {
    /// The path or soname that was opened.
    public let path: String
    let handle: UnsafeMutableRawPointer
    let getInstanceProcAddr: PFN_vkGetInstanceProcAddr

    /// Opens `path`, else `$DA3_VULKAN_LIB` (only it, when set), else `libvulkan.so.1` (then `libvulkan.so`).
    public init(path: String? = nil) throws {
        let candidates: [String]
        if let path {
            candidates = [path]
        } else if let env = ProcessInfo.processInfo.environment["DA3_VULKAN_LIB"], !env.isEmpty {
            candidates = [env]
        } else {
            candidates = ["libvulkan.so.1", "libvulkan.so"]
        }
        var lastError = ""
        for candidate in candidates {
            if let h = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                guard let sym = dlsym(h, "vkGetInstanceProcAddr") else {
                    dlclose(h)
                    lastError = "\(candidate) has no vkGetInstanceProcAddr"
                    continue
                }
                handle = h
                self.path = candidate
                getInstanceProcAddr = unsafeBitCast(sym, to: PFN_vkGetInstanceProcAddr.self)
                return
            }
            lastError = dlerror().map { String(cString: $0) } ?? "cannot open \(candidate)"
        }
        throw VulkanError.loaderNotFound(lastError)
    }

    /// Resolves a global or instance-level entry point as its `PFN_vk…` type.
    func function<T>(_ name: String, instance: VkInstance? = nil, as type: T.Type = T.self) throws -> T {
        guard let raw = getInstanceProcAddr(instance, name) else { throw VulkanError.missingFunction(name) }
        return unsafeBitCast(raw, to: T.self)
    }

    deinit { dlclose(handle) }
}
