import Foundation

/// Progress of one download: file name, bytes received so far, total bytes when known.
public typealias HubProgress = @Sendable (_ file: String, _ received: Int64, _ total: Int64?) -> Void

/// Where a resolved file came from.
public enum HubFileSource: String, Sendable {
    /// Downloaded now.
    case downloaded
    /// Already in the cache (checked against the server's current commit).
    case cache
    /// From the cache without asking the server (offline mode or no network).
    case cacheOffline = "cache (offline)"
}

/// A file resolved into the cache.
public struct HubFile: Sendable {
    /// `snapshots/<commit>/<file>` in the cache.
    public let url: URL
    /// The commit it belongs to.
    public let commit: String
    /// How it was obtained.
    public let source: HubFileSource
}

/// Downloads repository files into the Hugging Face cache the way huggingface_hub's
/// `hf_hub_download` does (same URLs, headers, cache layout, offline rules).
public struct HubClient: Sendable {
    /// Endpoint, token, offline flag and cache root.
    public let environment: HubEnvironment
    /// The cache.
    public var cache: HubCache { HubCache(root: environment.cacheRoot) }

    /// A client with `environment` (the process environment by default).
    public init(environment: HubEnvironment = HubEnvironment()) { self.environment = environment }

    /// `{endpoint}/{repo}/resolve/{revision}/{file}` with the revision percent-encoded.
    public func resolveURL(repo: String, revision: String, file: String) -> URL {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let rev = revision.addingPercentEncoding(withAllowedCharacters: allowed) ?? revision
        let path = file.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }.joined(separator: "/")
        return URL(string: "\(environment.endpoint)/\(repo)/resolve/\(rev)/\(path)")!
    }

    /// Resolves `file` of `repo` at `revision` to a path in the cache, downloading it when needed.
    public func file(repo: String, revision: String = "main", file: String, progress: HubProgress? = nil) throws -> HubFile {
        if environment.offline {
            guard let url = cache.cachedFile(repo, revision: revision, file: file), let commit = cache.commit(repo, revision: revision) else {
                throw HubError.offlineNotCached(repo: repo, revision: revision, file: file, cache: environment.cacheRoot.path)
            }
            return HubFile(url: url, commit: commit, source: .cacheOffline)
        }
        let meta: Metadata
        do {
            meta = try metadata(repo: repo, revision: revision, file: file)
        } catch let error as NetworkFailure {
            if let url = cache.cachedFile(repo, revision: revision, file: file), let commit = cache.commit(repo, revision: revision) {
                return HubFile(url: url, commit: commit, source: .cacheOffline)
            }
            throw HubError.networkUnavailable(url: error.url, reason: error.reason, cache: environment.cacheRoot.path)
        }
        do {
            try cache.writeRef(repo, revision: revision, commit: meta.commit)
        } catch {
            throw HubError.cacheNotWritable(path: cache.repoFolder(repo).path, reason: error.localizedDescription)
        }
        let snapshot = cache.snapshotFile(repo, commit: meta.commit, file: file)
        if FileManager.default.fileExists(atPath: snapshot.path) { return HubFile(url: snapshot, commit: meta.commit, source: .cache) }
        let blob = cache.blob(repo, etag: meta.etag)
        var source = HubFileSource.cache
        if !FileManager.default.fileExists(atPath: blob.path) {
            try download(meta, file: file, to: blob, progress: progress)
            source = .downloaded
        }
        do {
            try cache.link(repo, commit: meta.commit, file: file, etag: meta.etag)
        } catch {
            throw HubError.cacheNotWritable(path: snapshot.path, reason: error.localizedDescription)
        }
        return HubFile(url: snapshot, commit: meta.commit, source: source)
    }

    // MARK: metadata

    struct Metadata {
        var url: URL
        var commit: String
        var etag: String
        var size: Int64?
        var location: URL
    }

    struct NetworkFailure: Error {
        var url: String
        var reason: String
    }

    func request(_ url: URL, method: String) -> HTTPRequest {
        var headers = ["Accept-Encoding: identity", "User-Agent: da3-swift/1.0"]
        if let token = environment.token { headers.append("Authorization: Bearer \(token)") }
        return HTTPRequest(url: url, method: method, headers: headers, timeout: environment.timeout)
    }

    /// HEAD without following redirects (the Hub's LFS headers are on the redirect itself); relative
    /// redirects (renamed repositories) are followed up to 5 times.
    func metadata(repo: String, revision: String, file: String) throws -> Metadata {
        var url = resolveURL(repo: repo, revision: revision, file: file)
        for _ in 0..<6 {
            let outcome = HTTPTransfer.perform(request(url, method: "HEAD"), followRedirects: false)
            guard let response = outcome.response else {
                throw NetworkFailure(url: url.absoluteString, reason: outcome.error ?? "no response")
            }
            let status = response.statusCode
            switch status {
            case 401, 403:
                throw HubError.unauthorized(repo: repo, status: status, tokenGiven: environment.token != nil)
            case 404:
                switch response.header("X-Error-Code") {
                case "EntryNotFound": throw HubError.fileNotFound(repo: repo, revision: revision, file: file)
                case "RevisionNotFound": throw HubError.revisionNotFound(repo: repo, revision: revision)
                default: throw HubError.repositoryNotFound(repo: repo)
                }
            default: break
            }
            let location = response.header("Location").flatMap { URL(string: $0, relativeTo: url)?.absoluteURL }
            if (300..<400).contains(status), response.header("X-Repo-Commit") == nil, let location {
                url = location
                continue
            }
            guard (200..<400).contains(status) else { throw HubError.httpStatus(url: url.absoluteString, status: status) }
            guard let commit = response.header("X-Repo-Commit"),
                  let etag = Self.normalizeETag(response.header("X-Linked-Etag") ?? response.header("ETag")) else {
                throw HubError.notAHubEndpoint(url: url.absoluteString)
            }
            let size = (response.header("X-Linked-Size") ?? response.header("Content-Length")).flatMap { Int64($0) }
            return Metadata(url: url, commit: commit, etag: etag, size: size, location: location ?? url)
        }
        throw HubError.httpStatus(url: url.absoluteString, status: 310)
    }

    /// `W/"abc"` or `"abc"` -> `abc`.
    static func normalizeETag(_ etag: String?) -> String? {
        guard var e = etag else { return nil }
        if e.hasPrefix("W/") { e.removeFirst(2) }
        e = e.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return e.isEmpty ? nil : e
    }

    // MARK: download

    /// GET (following redirects) into `blobs/<etag>.incomplete`, check size and (for LFS files,
    /// whose ETag is a SHA-256) the hash, then rename to `blobs/<etag>`.
    func download(_ meta: Metadata, file: String, to blob: URL, progress: HubProgress?) throws {
        let fm = FileManager.default
        let incomplete = blob.appendingPathExtension("incomplete")
        do {
            try fm.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? fm.removeItem(at: incomplete)
            guard fm.createFile(atPath: incomplete.path, contents: nil) else {
                throw HubError.cacheNotWritable(path: incomplete.path, reason: "cannot create file")
            }
        } catch let error as HubError {
            throw error
        } catch {
            throw HubError.cacheNotWritable(path: blob.deletingLastPathComponent().path, reason: error.localizedDescription)
        }
        let handle = try FileHandle(forWritingTo: incomplete)
        let state = DownloadState()
        let total = meta.size
        progress?(file, 0, total)
        let outcome = HTTPTransfer.perform(request(meta.location, method: "GET"), followRedirects: true) { chunk in
            handle.write(chunk)
            state.add(chunk)
            progress?(file, state.received, total)
        }
        try? handle.close()
        func fail(_ error: Error) -> Error {
            try? fm.removeItem(at: incomplete)
            return error
        }
        if let response = outcome.response, !(200..<300).contains(response.statusCode) {
            if response.statusCode == 401 || response.statusCode == 403 {
                throw fail(HubError.unauthorized(repo: file, status: response.statusCode, tokenGiven: environment.token != nil))
            }
            throw fail(HubError.httpStatus(url: meta.location.absoluteString, status: response.statusCode))
        }
        let received = state.received
        if let total, received != total {
            throw fail(HubError.incompleteTransfer(file: file, received: received, expected: total))
        }
        if let error = outcome.error {
            throw fail(HubError.networkUnavailable(url: meta.location.absoluteString, reason: error, cache: environment.cacheRoot.path))
        }
        if meta.etag.count == 64, meta.etag.allSatisfy(\.isHexDigit) {
            let actual = state.digest()
            if actual != meta.etag.lowercased() { throw fail(HubError.checksumMismatch(file: file, expected: meta.etag, actual: actual)) }
        }
        do {
            try? fm.removeItem(at: blob)
            try fm.moveItem(at: incomplete, to: blob)
        } catch {
            throw fail(HubError.cacheNotWritable(path: blob.path, reason: error.localizedDescription))
        }
    }
}

/// Byte count and running hash of a download.
final class DownloadState: @unchecked Sendable {
    private let lock = NSLock()
    private var hash = SHA256()
    private var count: Int64 = 0

    func add(_ data: Data) {
        lock.lock(); defer { lock.unlock() }
        hash.update(data)
        count += Int64(data.count)
    }

    var received: Int64 { lock.lock(); defer { lock.unlock() }; return count }

    func digest() -> String { lock.lock(); defer { lock.unlock() }; return hash.finalizeHex() }
}
