import CCurl
import Foundation

/// One HTTP request of the Hub client.
struct HTTPRequest {
    var url: URL
    /// "HEAD" or "GET".
    var method: String
    /// Header lines, "Name: value".
    var headers: [String]
    /// Connect timeout, and how long the transfer may receive nothing before it fails.
    var timeout: TimeInterval
}

/// Status and headers of an HTTP response.
struct HTTPResponse {
    var statusCode: Int
    /// Header fields in arrival order.
    var fields: [(name: String, value: String)] = []

    /// A header value, case-insensitively (the first one).
    func header(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A blocking HTTP request over libcurl, loaded at run time on the first request (`CCurl`), so
/// processes that never reach the Hub never load a networking library: either headers only (no
/// redirects followed) or a streamed body handed to a sink chunk by chunk.
final class HTTPTransfer {
    /// The final response (the redirect itself when redirects are not followed), or the transport error.
    struct Outcome {
        var response: HTTPResponse?
        var error: String?
    }

    private let sink: ((Data) -> Void)?
    private var response: HTTPResponse?

    private init(sink: ((Data) -> Void)?) { self.sink = sink }

    /// Runs `request`; `sink` receives the body of a 2xx response as it arrives.
    static func perform(_ request: HTTPRequest, followRedirects: Bool, sink: ((Data) -> Void)? = nil) -> Outcome {
        var loadError = [CChar](repeating: 0, count: 256)
        guard da3_http_load(&loadError, loadError.count) != 0 else {
            return Outcome(response: nil, error: text(loadError))
        }
        let transfer = HTTPTransfer(sink: sink)
        var status = 0
        var message = [CChar](repeating: 0, count: 512)
        let code = withCStrings(request.headers) { headers in
            withExtendedLifetime(transfer) {
                da3_http_perform(request.url.absoluteString, headers, request.headers.count, request.method == "HEAD" ? 1 : 0,
                                 followRedirects ? 1 : 0, max(1, Int(request.timeout * 1000)), { data, size, context in
                                     Unmanaged<HTTPTransfer>.fromOpaque(context!).takeUnretainedValue().header(data!, size)
                                 }, { data, size, context in
                                     Unmanaged<HTTPTransfer>.fromOpaque(context!).takeUnretainedValue().body(data!, size)
                                 }, Unmanaged.passUnretained(transfer).toOpaque(), &status, &message, message.count)
            }
        }
        var response = transfer.response
        if status > 0 {  // libcurl's own reading of the final status wins
            response = HTTPResponse(statusCode: status, fields: response?.fields ?? [])
        }
        return Outcome(response: response, error: code == 0 ? nil : text(message))
    }

    /// A status line starts a new response (after a redirect); other lines are its fields.
    private func header(_ data: UnsafePointer<CChar>, _ size: Int) -> Int {
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            let parts = line.split(separator: " ")
            response = HTTPResponse(statusCode: parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            response?.fields.append((name, value))
        }
        return size
    }

    private func body(_ data: UnsafePointer<CChar>, _ size: Int) -> Int {
        if let status = response?.statusCode, (200..<300).contains(status) {
            sink?(Data(bytes: data, count: size))
        }
        return size
    }
}

/// A NUL-terminated C string in a buffer, as text.
private func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Calls `body` with `strings` as an array of C strings that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
