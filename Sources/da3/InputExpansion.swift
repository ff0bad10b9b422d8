import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Expands the image arguments of `da3 depth`: files as given, directories to their visible regular
/// files (sorted, not recursive), and glob patterns (`*`, `?`, `[...]`) to their matches.
enum InputExpansion {
    /// One input: a file to process, or an argument that yielded nothing (with the reason).
    enum Item {
        case file(String)
        case invalid(String, reason: String)
    }

    static func expand(_ arguments: [String]) -> [Item] {
        var items: [Item] = []
        let fm = FileManager.default
        for arg in arguments {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: arg, isDirectory: &isDir) {
                if isDir.boolValue {
                    let names = ((try? fm.contentsOfDirectory(atPath: arg)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                    let files = names.map { (arg as NSString).appendingPathComponent($0) }.filter {
                        var d: ObjCBool = false
                        return fm.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
                    }
                    if files.isEmpty { items.append(.invalid(arg, reason: "directory has no files")) }
                    items += files.map { .file($0) }
                } else {
                    items.append(.file(arg))
                }
            } else if arg.contains(where: { "*?[".contains($0) }) {
                let matches = glob(arg).filter {
                    var d: ObjCBool = false
                    return fm.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
                }
                if matches.isEmpty { items.append(.invalid(arg, reason: "no file matches this pattern")) }
                items += matches.map { .file($0) }
            } else {
                items.append(.file(arg))  // reported by the decoder as "no such file"
            }
        }
        return items
    }

    /// Paths matching a shell pattern, sorted.
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
