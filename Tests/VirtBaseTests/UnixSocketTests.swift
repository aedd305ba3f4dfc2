import Glibc
import Testing

@testable import VirtBase

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let path: String
    init() throws {
        var template = Array("/tmp/virtbase-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw VirtError(.systemError, .rpc, "mkdtemp failed") }
        path = String(cString: made)
    }
    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}

@Suite("Unix socket helpers")
struct UnixSocketTests {
    private struct Echo: Codable, Equatable { var text: String }

    /// A server answering `echo` and refusing other methods, on its own thread.
    private func startServer(_ path: String, allowed: Set<UInt32>) throws -> FrameServer {
        let listener = try UnixSocketListener(path: path)
        let server = FrameServer(listener: listener, allowedUIDs: allowed) { request, _ in
            guard request.method == "echo" else {
                return FrameServer.Reply(
                    WireReply.frame(
                        id: request.id,
                        error: WireError(code: WireError.unknownMethod, message: "unknown method '\(request.method)'")))
            }
            do {
                return FrameServer.Reply(try WireReply.frame(id: request.id, result: request.params(Echo.self)))
            } catch {
                let wire = error as? WireError ?? WireError(code: "x", message: "\(error)")
                return FrameServer.Reply(WireReply.frame(id: request.id, error: wire))
            }
        }
        try DetachedThread.start("test server") { server.serve() }
        return server
    }

    @Test("the socket file is created with mode 0600")
    func mode() throws {
        let dir = try TemporaryDirectory()
        let listener = try UnixSocketListener(path: dir.path + "/s.sock")
        defer { listener.close() }
        var info = stat()
        #expect(stat(dir.path + "/s.sock", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
    }

    @Test("a path past the 107-byte limit is a clear error")
    func longPath() throws {
        let path = "/tmp/" + String(repeating: "x", count: UnixSocketListener.maximumPathBytes)
        #expect(throws: VirtError.self) { try UnixSocketListener(path: path) }
        do {
            _ = try UnixSocketListener(path: path)
        } catch {
            #expect(error.message.contains("107-byte limit"))
        }
    }

    @Test("requests get answers; an unknown method is an error and the connection stays usable")
    func roundTrip() throws {
        let dir = try TemporaryDirectory()
        let server = try startServer(dir.path + "/s.sock", allowed: [getuid()])
        defer { server.stop() }
        let client = FrameClient(
            path: dir.path + "/s.sock", what: "test server", domain: .rpc, timeoutMilliseconds: 5_000)
        #expect(try client.call("echo", Echo(text: "hi"), returning: Echo.self) == Echo(text: "hi"))
        #expect(throws: VirtError.self) { try client.call("nope", WireEmpty(), returning: WireEmpty.self) }
        #expect(try client.call("echo", Echo(text: "again"), returning: Echo.self) == Echo(text: "again"))
    }

    @Test("a peer whose uid is not allowed is refused")
    func peerUID() throws {
        let dir = try TemporaryDirectory()
        let server = try startServer(dir.path + "/s.sock", allowed: [getuid() &+ 12345])
        defer { server.stop() }
        let connection = try UnixSocketConnection.connect(path: dir.path + "/s.sock", timeoutMilliseconds: 5_000)
        #expect(try connection.peerCredentials().uid == getuid())
        #expect(try connection.peerCredentials().pid == getpid())
        let reply = try WireReply.parse(#require(try connection.receiveFrame(timeoutMilliseconds: 5_000)))
        #expect(reply.error?.code == WireError.permissionDenied)
        #expect(try connection.receiveFrame(timeoutMilliseconds: 5_000) == nil)
    }

    @Test("malformed and oversized frames get an error and a close; the server lives on")
    func malformedFrames() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/s.sock"
        let server = try startServer(path, allowed: [getuid()])
        defer { server.stop() }

        let bad = try UnixSocketConnection.connect(path: path, timeoutMilliseconds: 5_000)
        try bad.send(try FrameCodec.frame(Array("{oops".utf8)), timeoutMilliseconds: 5_000)
        let reply = try WireReply.parse(#require(try bad.receiveFrame(timeoutMilliseconds: 5_000)))
        #expect(reply.id == nil)
        #expect(reply.error?.code == WireError.malformedFrame)
        #expect(try bad.receiveFrame(timeoutMilliseconds: 5_000) == nil)

        let huge = try UnixSocketConnection.connect(path: path, timeoutMilliseconds: 5_000)
        try huge.send([0x7f, 0xff, 0xff, 0xff], timeoutMilliseconds: 5_000)
        let refused = try WireReply.parse(#require(try huge.receiveFrame(timeoutMilliseconds: 5_000)))
        #expect(refused.error?.code == WireError.frameTooLarge)

        let client = FrameClient(path: path, what: "test server", domain: .rpc, timeoutMilliseconds: 5_000)
        #expect(try client.call("echo", Echo(text: "alive"), returning: Echo.self) == Echo(text: "alive"))
    }

    @Test("a server that never answers makes the client time out instead of hanging")
    func readTimeout() throws {
        let dir = try TemporaryDirectory()
        // Listening but never accepting: the connection completes in the backlog and no reply ever comes.
        let listener = try UnixSocketListener(path: dir.path + "/mute.sock")
        defer { listener.close() }
        let client = FrameClient(
            path: dir.path + "/mute.sock", what: "mute server", domain: .rpc, timeoutMilliseconds: 200)
        do {
            _ = try client.call("echo", Echo(text: "x"), returning: Echo.self)
            Issue.record("a mute server answered")
        } catch {
            #expect(error.code == .operationTimeout)
            #expect(error.message.contains("mute server"))
        }
    }

    @Test("a socket nobody listens on fails at once with a clear error")
    func deadSocket() throws {
        let dir = try TemporaryDirectory()
        let listener = try UnixSocketListener(path: dir.path + "/dead.sock")
        // Close the descriptor but leave the file, as a killed process does.
        close(listener.descriptor)
        let client = FrameClient(
            path: dir.path + "/dead.sock", what: "dead server", domain: .rpc, timeoutMilliseconds: 5_000)
        do {
            _ = try client.call("echo", Echo(text: "x"), returning: Echo.self)
            Issue.record("a dead socket answered")
        } catch {
            #expect(error.code == .operationFailed)
            #expect(error.message.contains("Connection refused"))
        }
        unlink(dir.path + "/dead.sock")
    }
}
