import Foundation

/// Per-image output stems that cannot collide: the file name without extension; when several
/// inputs share it (case-insensitively) the extension is kept (`img_jpg`), and any remaining clash
/// gets `-2`, `-3`, ... in input order.
enum OutputNaming {
    static func stems(for paths: [String]) -> [String] {
        let bare = paths.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        var counts: [String: Int] = [:]
        for s in bare { counts[s.lowercased(), default: 0] += 1 }
        var used = Set<String>()
        var result: [String] = []
        for (path, stem) in zip(paths, bare) {
            var name = stem.isEmpty ? "image" : stem
            if counts[stem.lowercased(), default: 0] > 1 {
                let ext = (path as NSString).pathExtension
                if !ext.isEmpty { name += "_" + ext }
            }
            var candidate = name, n = 2
            while used.contains(candidate.lowercased()) { candidate = "\(name)-\(n)"; n += 1 }
            used.insert(candidate.lowercased())
            result.append(candidate)
        }
        return result
    }
}
