import Foundation

/// A temporary `kvm:///embed?root=DIR` for one test; destroys every domain still running in it and removes
/// the directory when the value goes away.
final class EmbedScratch {
    let scratch: Scratch
    var uri: String { "kvm:///embed?root=\(scratch.url.path)" }

    init() throws { scratch = try Scratch() }

    deinit {
        let names = (try? ProcessRunnerSpawn.virtsh(["-q", "-c", uri, "list", "--name"]))?.stdout ?? ""
        for name in names.split(separator: "\n") where !name.isEmpty {
            _ = try? ProcessRunnerSpawn.virtsh(["-q", "-c", uri, "destroy", String(name)])
        }
        stopLockDaemon()
    }

    /// Stops the lock daemon a domain start launched on demand in this root (through its pid file).
    private func stopLockDaemon() {
        let pidFile = scratch.url.path + "/run/lockd/virtlockd.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return }
        kill(pid, SIGTERM)
        for _ in 0..<500 {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
            else { return }
            usleep(10_000)
        }
    }

    /// Defines `xml` (written to a file first).
    func define(_ name: String, _ xml: String) throws -> ProcessResult {
        let file = try scratch.write("\(name).xml", xml)
        return try ProcessRunnerSpawn.virtsh(["-c", uri, "define", file])
    }

    /// `virtsh -c URI ARGS`.
    func virtsh(_ arguments: String...) throws -> ProcessResult {
        try ProcessRunnerSpawn.virtsh(["-c", uri] + arguments)
    }
}
