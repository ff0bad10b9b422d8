import Foundation

/// Runs `Tests/Fixtures/hub/hub_server.py` (a local stand-in for the Hugging Face Hub) on a free
/// 127.0.0.1 port for the duration of a test; it also exits by itself after `lifetime` seconds.
public final class HubTestServer: @unchecked Sendable {
    /// `http://127.0.0.1:<port>`.
    public let endpoint: String
    /// The file the server appends `METHOD PATH` lines to.
    public let requestLog: URL
    private let process: Process

    /// Starts the server serving the files of `root` (default: the tiny checkpoint); nil when
    /// python3 is unavailable or the server does not report its port within 10 s.
    public init?(root: URL = Fixtures.url("tiny"), lifetime: Int = 300) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("hub-log-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Fixtures.url("hub/hub_server.py").path, "--root", root.path,
                       "--log", log.path, "--lifetime", String(lifetime)]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        // Read the first line ("PORT n") with a deadline.
        let box = LineBox()
        let reader = Thread {
            var bytes = [UInt8]()
            while true {
                let d = out.fileHandleForReading.readData(ofLength: 1)
                if d.isEmpty || d.first == 0x0a { break }
                bytes += d
            }
            box.set(String(decoding: bytes, as: UTF8.self))
        }
        reader.start()
        let deadline = Date().addingTimeInterval(10)
        while box.get() == nil && Date() < deadline && p.isRunning { usleep(20_000) }
        guard let line = box.get(), line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            if p.isRunning { p.terminate() }
            return nil
        }
        process = p
        requestLog = log
        endpoint = "http://127.0.0.1:\(port)"
    }

    /// The requests served so far.
    public var requests: [String] {
        ((try? String(contentsOf: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Stops the server and waits for it to exit.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: requestLog)
    }

    deinit { stop() }
}

private final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}
