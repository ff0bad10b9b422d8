import Foundation

/// A model reference given on the command line or to the library: a Hub repository id such as
/// `depth-anything/DA3-SMALL`, optionally pinned with `@revision` (branch, tag or commit).
public struct HubModelReference: Sendable, Equatable, CustomStringConvertible {
    /// `ORG/NAME`.
    public let repo: String
    /// Branch, tag or commit hash (default `main`).
    public let revision: String

    /// The default model: `depth-anything/DA3-SMALL`.
    public static let defaultModel = HubModelReference(repo: "depth-anything/DA3-SMALL", revision: "main")

    /// The files a Depth Anything 3 checkpoint repository provides.
    public static let modelFiles = ["config.json", "model.safetensors"]

    /// Creates a reference.
    public init(repo: String, revision: String = "main") {
        self.repo = repo
        self.revision = revision
    }

    /// Parses `ORG/NAME[@REVISION]`; nil when `text` does not have that shape.
    public init?(parsing text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let repo = String(parts[0])
        let names = repo.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard names.count == 2, names.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.hasPrefix("-")
                && $0.unicodeScalars.allSatisfy { allowed.contains($0) } && !$0.contains("..") }) else { return nil }
        let revision = parts.count == 2 ? String(parts[1]) : "main"
        guard !revision.isEmpty else { return nil }
        self.init(repo: repo, revision: revision)
    }

    /// `ORG/NAME@REVISION`.
    public var description: String { "\(repo)@\(revision)" }

    /// Downloads (or finds in the cache) every file of ``modelFiles`` and returns the snapshot
    /// directory holding them, with the commit and how the weights were obtained.
    public func resolve(client: HubClient = HubClient(), progress: HubProgress? = nil) throws -> (directory: URL, commit: String, source: HubFileSource) {
        var last: HubFile?
        for file in Self.modelFiles {
            last = try client.file(repo: repo, revision: revision, file: file, progress: progress)
        }
        let weights = last!
        return (weights.url.deletingLastPathComponent(), weights.commit, weights.source)
    }
}
