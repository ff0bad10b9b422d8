import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking HTTP request over URLSession: either headers only (no redirects followed) or a
/// streamed body written to a file handle chunk by chunk.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// Status and headers of the final response, or the transport error.
    struct Outcome {
        var response: HTTPURLResponse?
        var error: Error?
    }

    private let followRedirects: Bool
    private let sink: ((Data) -> Void)?
    private let done = DispatchSemaphore(value: 0)
    private var outcome = Outcome()

    private init(followRedirects: Bool, sink: ((Data) -> Void)?) {
        self.followRedirects = followRedirects
        self.sink = sink
    }

    /// Runs `request`; `sink` receives the body of a 2xx response as it arrives.
    static func perform(_ request: URLRequest, followRedirects: Bool, sink: ((Data) -> Void)? = nil) -> Outcome {
        let transfer = HTTPTransfer(followRedirects: followRedirects, sink: sink)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = request.timeoutInterval
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: config, delegate: transfer, delegateQueue: nil)
        session.dataTask(with: request).resume()
        transfer.done.wait()
        session.finishTasksAndInvalidate()
        return transfer.outcome
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        if followRedirects {
            completionHandler(request)
        } else {
            outcome.response = response
            completionHandler(nil)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        outcome.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if let status = outcome.response?.statusCode, (200..<300).contains(status) { sink?(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error {
            let cancelledRedirect = !followRedirects && outcome.response != nil && (error as NSError).code == NSURLErrorCancelled
            if !cancelledRedirect { outcome.error = error }
        }
        if outcome.response == nil, let r = task.response as? HTTPURLResponse { outcome.response = r }
        done.signal()
    }
}

extension HTTPURLResponse {
    /// A header value, case-insensitively.
    func header(_ name: String) -> String? {
        for (k, v) in allHeaderFields {
            if let key = k as? String, key.caseInsensitiveCompare(name) == .orderedSame { return v as? String }
        }
        return nil
    }
}
