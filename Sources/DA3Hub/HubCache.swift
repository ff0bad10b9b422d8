import Foundation

/// The Hugging Face Hub cache layout shared with huggingface_hub:
///
/// ```
/// <root>/models--ORG--NAME/
///     blobs/<etag>                      file contents (etag = sha256 for LFS files)
///     refs/<revision>                   the commit hash a branch or tag pointed to
///     snapshots/<commit>/<file>         relative symlink to ../../blobs/<etag>
/// ```
public struct HubCache: Sendable {
    /// The cache root.
    public let root: URL

    /// A cache at `root`.
    public init(root: URL) { self.root = root }

    /// `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    public static func home(environment: [String: String]) -> URL {
        if let h = environment["HF_HOME"], !h.isEmpty { return URL(fileURLWithPath: (h as NSString).expandingTildeInPath) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        return URL(fileURLWithPath: base).appendingPathComponent("huggingface")
    }

    /// `$HF_HUB_CACHE`, else `<home>/hub`.
    public static func root(environment: [String: String]) -> URL {
        if let c = environment["HF_HUB_CACHE"], !c.isEmpty { return URL(fileURLWithPath: (c as NSString).expandingTildeInPath) }
        return home(environment: environment).appendingPathComponent("hub")
    }

    /// `models--ORG--NAME`.
    public func repoFolder(_ repo: String) -> URL {
        root.appendingPathComponent("models--" + repo.split(separator: "/").joined(separator: "--"))
    }

    /// `blobs/<etag>`.
    public func blob(_ repo: String, etag: String) -> URL { repoFolder(repo).appendingPathComponent("blobs/\(etag)") }

    /// `snapshots/<commit>/<file>`.
    public func snapshotFile(_ repo: String, commit: String, file: String) -> URL {
        repoFolder(repo).appendingPathComponent("snapshots/\(commit)/\(file)")
    }

    /// True for a full 40-digit commit hash.
    public static func isCommitHash(_ revision: String) -> Bool {
        revision.count == 40 && revision.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// The commit `revision` resolves to in the cache: itself when it is a commit hash, else the
    /// content of `refs/<revision>`.
    public func commit(_ repo: String, revision: String) -> String? {
        if Self.isCommitHash(revision) { return revision }
        let ref = repoFolder(repo).appendingPathComponent("refs/\(revision)")
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }

    /// The cached copy of `file` at `revision`, if there is one.
    public func cachedFile(_ repo: String, revision: String, file: String) -> URL? {
        guard let commit = commit(repo, revision: revision) else { return nil }
        let url = snapshotFile(repo, commit: commit, file: file)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Records that `revision` points at `commit` (`refs/<revision>`), unless `revision` is the commit.
    func writeRef(_ repo: String, revision: String, commit: String) throws {
        guard revision != commit else { return }
        let ref = repoFolder(repo).appendingPathComponent("refs/\(revision)")
        try FileManager.default.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
        if (try? String(contentsOf: ref, encoding: .utf8)) == commit { return }
        try Data(commit.utf8).write(to: ref, options: .atomic)
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink.
    func link(_ repo: String, commit: String, file: String, etag: String) throws {
        let target = snapshotFile(repo, commit: commit, file: file)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = file.split(separator: "/").count + 1
        let relative = String(repeating: "../", count: depth) + "blobs/\(etag)"
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: relative)
    }
}
