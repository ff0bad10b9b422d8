import Foundation

/// Per-stage wall times (the pipeline's events), printed to standard error on request.
final class StageClock: @unchecked Sendable {
    private let enabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private var marks: [(String, Double)] = []

    init(enabled: Bool) { self.enabled = enabled }

    func mark(_ name: String, milliseconds: Double) {
        guard enabled else { return }
        marks.append((name, milliseconds))
    }

    func report() {
        guard enabled else { return }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        for (name, ms) in marks + [("total", total)] {
            let padded = name.padding(toLength: 16, withPad: " ", startingAt: 0)
            FileHandle.standardError.write(Data((padded + String(format: "%9.1f ms\n", ms)).utf8))
        }
    }
}

/// Milliseconds since `start` (a `DispatchTime` uptime in nanoseconds).
func milliseconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}
