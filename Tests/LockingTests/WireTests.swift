import Locking
import Testing

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
}
