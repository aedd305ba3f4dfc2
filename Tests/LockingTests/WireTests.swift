import Locking
import Testing
import VirtBase

@Suite struct WireTests {
    private func payload(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func requestsRoundTrip() throws {
        let request = LockRequest(
            id: 7, method: .acquire, params: LockParams(lockspace: "", resource: "/srv/a.img", mode: .shared))
        let frame = try LockWire.encode(request)
        #expect(Array(frame[0..<4]) == [0, 0, UInt8((frame.count - 4) >> 8), UInt8((frame.count - 4) & 0xff)])
        var splitter = FrameSplitter()
        frame.withUnsafeBytes { splitter.append(UnsafeRawBufferPointer(rebasing: $0[0..<3])) }
        #expect(try splitter.next() == nil)
        frame.withUnsafeBytes { splitter.append(UnsafeRawBufferPointer(rebasing: $0[3...])) }
        let body = try #require(try splitter.next())
        guard case .call(let call) = LockDispatch.parse(body) else {
            Issue.record("not parsed")
            return
        }
        #expect(call.id == 7 && call.method == .acquire && call.params.mode == .shared)
    }

    @Test func badEnvelopesGetErrorReplies() {
        func code(_ json: String) -> (Int?, String?) {
            guard case .reject(let reply) = LockDispatch.parse(payload(json)) else { return (nil, nil) }
            return (reply.id, reply.error?.code)
        }
        #expect(code("not json") == (nil, LockProtocol.ErrorCode.malformedFrame))
        #expect(code("[1,2]") == (nil, LockProtocol.ErrorCode.malformedFrame))
        #expect(code(#"{"version":1,"method":"status"}"#) == (nil, LockProtocol.ErrorCode.malformedFrame))
        #expect(code(#"{"version":2,"id":3,"method":"status"}"#) == (3, LockProtocol.ErrorCode.unsupportedVersion))
        #expect(code(#"{"version":1,"id":4,"method":"format_disk"}"#) == (4, LockProtocol.ErrorCode.unknownMethod))
        #expect(
            code(#"{"version":1,"id":5,"method":"acquire","params":{"mode":"sideways"}}"#).1
                == LockProtocol.ErrorCode.malformedFrame)
    }

    @Test func oversizedFramesAreRefused() {
        var splitter = FrameSplitter()
        let header: [UInt8] = [0x00, 0x10, 0x00, 0x01]  // 1 MiB + 1
        header.withUnsafeBytes { splitter.append($0) }
        #expect {
            try splitter.next()
        } throws: { ($0 as! LockWireError).code == LockProtocol.ErrorCode.frameTooLarge }
    }

    @Test func hostileJSONIsRefusedWithoutHarm() throws {
        // Deep nesting stops at the depth limit instead of exhausting the stack.
        #expect(JSONValue.parse(Array(String(repeating: "[", count: 100_000).utf8)) == nil)
        #expect(JSONValue.parse(Array("{\"a\":1} trailing".utf8)) == nil)
        #expect(JSONValue.parse(Array("\"\\ud800\"".utf8)) == nil)  // lone surrogate
        #expect(JSONValue.parse(Array("01".utf8)) == nil)
        #expect(JSONValue.parse(Array("\"\\u00e9\\ud83d\\ude00\"".utf8)) == .string("é😀"))
        // Every truncation and single-byte corruption of a valid request parses or is refused, never crashes.
        let valid = Array(
            #"{"version":1,"id":12,"method":"acquire","params":{"lockspace":"","resource":"/srv/a b\"c.img","mode":"shared"}}"#
                .utf8)
        #expect(JSONValue.parse(valid) != nil)
        var generator = SystemRandomNumberGenerator()
        for length in 0..<valid.count { _ = LockDispatch.parse(Array(valid[0..<length])) }
        for _ in 0..<2000 {
            var corrupted = valid
            corrupted[Int.random(in: 0..<valid.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = LockDispatch.parse(corrupted)
        }
    }

    @Test func writerEscapesWhatTheReaderReads() throws {
        let owner = LeaseOwner(uuid: "u", name: "we\"ird\\name\n\u{01}é", pid: 42, host: "h")
        var writer = JSONWriter()
        owner.write(to: &writer)
        let parsed = try #require(JSONValue.parse(writer.bytes))
        #expect(try LeaseOwner(json: parsed, at: "") == owner)
    }
}
