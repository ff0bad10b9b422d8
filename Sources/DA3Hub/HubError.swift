/// Why a Hub file could not be resolved, with what to do about it in ``description``.
public enum HubError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `HF_HUB_OFFLINE` is set and the cache has no copy.
    case offlineNotCached(repo: String, revision: String, file: String, cache: String)
    /// The server could not be reached and the cache has no copy.
    case networkUnavailable(url: String, reason: String, cache: String)
    /// 401/403: private or gated repository, or a bad token.
    case unauthorized(repo: String, status: Int, tokenGiven: Bool)
    /// 404 for the repository.
    case repositoryNotFound(repo: String)
    /// 404 for the revision.
    case revisionNotFound(repo: String, revision: String)
    /// 404 for the file in an existing repository and revision.
    case fileNotFound(repo: String, revision: String, file: String)
    /// Another HTTP status.
    case httpStatus(url: String, status: Int)
    /// The response lacks Hub headers (`X-Repo-Commit`, `ETag`): `HF_ENDPOINT` is probably wrong.
    case notAHubEndpoint(url: String)
    /// The transfer ended early or delivered another size than announced.
    case incompleteTransfer(file: String, received: Int64, expected: Int64)
    /// The SHA-256 of the downloaded bytes differs from the announced one.
    case checksumMismatch(file: String, expected: String, actual: String)
    /// The cache could not be written.
    case cacheNotWritable(path: String, reason: String)

    /// One line saying what went wrong and what to do.
    public var description: String {
        switch self {
        case let .offlineNotCached(repo, revision, file, cache):
            return "\(repo)@\(revision): \(file) is not in the Hugging Face cache (\(cache)) and HF_HUB_OFFLINE is set; unset HF_HUB_OFFLINE and run once with network access, or pass a local checkpoint path with --model"
        case let .networkUnavailable(url, reason, cache):
            return "cannot reach \(url) (\(reason)) and the Hugging Face cache (\(cache)) has no copy; check the network or HF_ENDPOINT, or pass a local checkpoint path with --model"
        case let .unauthorized(repo, status, tokenGiven):
            return tokenGiven
                ? "\(repo): access denied (HTTP \(status)) with the token in HF_TOKEN; check that the token is valid and has access to this repository (gated repositories must be accepted on the Hub first)"
                : "\(repo): authentication required (HTTP \(status)); the repository is private or gated, or does not exist: set HF_TOKEN to a Hugging Face access token with access to it"
        case let .repositoryNotFound(repo):
            return "\(repo): repository not found on the Hub (check the id, e.g. depth-anything/DA3-SMALL)"
        case let .revisionNotFound(repo, revision):
            return "\(repo): revision '\(revision)' not found (use a branch, tag or commit hash that exists)"
        case let .fileNotFound(repo, revision, file):
            return "\(repo)@\(revision): file '\(file)' not found in the repository"
        case let .httpStatus(url, status):
            return "\(url): HTTP \(status)"
        case let .notAHubEndpoint(url):
            return "\(url): the response has no X-Repo-Commit/ETag headers, so it is not a Hugging Face Hub endpoint; check HF_ENDPOINT"
        case let .incompleteTransfer(file, received, expected):
            return "\(file): download incomplete (\(received) of \(expected) bytes); nothing was cached, run the command again to retry"
        case let .checksumMismatch(file, expected, actual):
            return "\(file): SHA-256 \(actual) does not match the \(expected) announced by the Hub; nothing was cached, run again to retry"
        case let .cacheNotWritable(path, reason):
            return "\(path): cannot write to the Hugging Face cache (\(reason)); set HF_HUB_CACHE or HF_HOME to a writable directory"
        }
    }
}
