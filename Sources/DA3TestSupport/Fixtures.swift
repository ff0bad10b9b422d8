import Foundation

/// Paths to test fixtures, resolved from this source file so tests run from any directory.
public enum Fixtures {
    /// The repository root (two levels above `Sources/DA3TestSupport`).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/<relative>`.
    public static func url(_ relative: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative)
    }

    /// `../shared/images`, the real photos shared with CI (never copied into the repo).
    public static let sharedImages: URL = repoRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/images")
}
