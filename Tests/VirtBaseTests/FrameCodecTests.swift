import Testing

@testable import VirtBase

@Suite("Frame codec")
struct FrameCodecTests {
    private struct Params: Codable, Equatable {
        var name: String
        var count: Int
    }

    @Test("a frame is a big-endian length and the JSON payload")
    func framing() throws {
        let frame = try WireRequest.frame(id: 7, method: "status", params: Params(name: "a", count: 1))
        let payload = Array(frame.dropFirst(4))
        #expect(Array(frame.prefix(4)) == [0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)])
        #expect(
            String(decoding: payload, as: UTF8.self)
                == #"{"id":7,"method":"status","params":{"count":1,"name":"a"},"version":1}"#)
    }

    @Test("frames split at every byte boundary and glued together come out whole, in order")
    func partialReads() throws {
        let first = try WireRequest.frame(id: 1, method: "pause", params: WireEmpty())
        let second = try WireRequest.frame(id: 2, method: "resume", params: Params(name: "ü", count: 3))
        let stream = first + second
        var decoder = FrameDecoder()
        var payloads: [[UInt8]] = []
        for byte in stream {
            decoder.append([byte])
            while let payload = try decoder.nextFrame() { payloads.append(payload) }
        }
        #expect(payloads.count == 2)
        #expect(decoder.bufferedBytes == 0)
        let requests = try payloads.map { payload throws(WireRequest.Failure) in try WireRequest.parse(payload) }
        #expect(requests.map(\.method) == ["pause", "resume"])
        #expect(try requests[1].params(Params.self) == Params(name: "ü", count: 3))

        var glued = FrameDecoder()
        glued.append(stream)
        #expect(try glued.nextFrame() == Array(first.dropFirst(4)))
        #expect(try glued.nextFrame() == Array(second.dropFirst(4)))
        #expect(try glued.nextFrame() == nil)
    }

    @Test("a length past 1 MiB is refused from its header alone")
    func oversized() {
        var decoder = FrameDecoder()
        let length = FrameCodec.maximumFrameBytes + 1
        decoder.append([
            UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff),
        ])
        #expect(throws: FrameError.oversized(length)) { try decoder.nextFrame() }
        #expect(throws: FrameError.oversized(length)) {
            try FrameCodec.frame([UInt8](repeating: 0x20, count: length))
        }
    }

    @Test("a frame of exactly 1 MiB is accepted")
    func largestFrame() throws {
        let payload = [UInt8](repeating: 0x20, count: FrameCodec.maximumFrameBytes)
        var decoder = FrameDecoder()
        decoder.append(try FrameCodec.frame(payload))
        #expect(try decoder.nextFrame()?.count == FrameCodec.maximumFrameBytes)
    }

    @Test(
        "malformed payloads are refused with the id when one is readable",
        arguments: [
            ("{not json", nil, WireError.malformedFrame),
            ("[1,2]", nil, WireError.malformedFrame),
            (#"{"version":1,"method":"status"}"#, nil, WireError.malformedFrame),
            (#"{"version":1,"id":4}"#, 4, WireError.malformedFrame),
            (#"{"id":5,"method":"status"}"#, 5, WireError.malformedFrame),
            (#"{"version":2,"id":6,"method":"status"}"#, 6, WireError.unsupportedVersion),
            (#"{"version":1,"id":"x","method":"status"}"#, nil, WireError.malformedFrame),
        ] as [(String, Int?, String)])
    func malformed(text: String, id: Int?, code: String) {
        do {
            _ = try WireRequest.parse(Array(text.utf8))
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.id == id)
            #expect(error.error.code == code)
        }
    }

    @Test("params of the wrong shape are an invalid-params error; missing params read as {}")
    func params() throws {
        let request = try WireRequest.parse(Array(#"{"version":1,"id":1,"method":"m","params":{"name":3}}"#.utf8))
        #expect(throws: WireError.self) { try request.params(Params.self) }
        do {
            _ = try request.params(Params.self)
        } catch {
            #expect(error.code == WireError.invalidParams)
        }
        let bare = try WireRequest.parse(Array(#"{"version":1,"id":1,"method":"m"}"#.utf8))
        #expect(try bare.params(WireEmpty.self) == WireEmpty())
    }

    @Test("replies: a result, an error, and an error to an unreadable request with a null id")
    func replies() throws {
        let ok = try WireReply.parse(
            Array(try WireReply.frame(id: 3, result: Params(name: "x", count: 2)).dropFirst(4)))
        #expect(ok.id == 3)
        #expect(try ok.result(Params.self) == Params(name: "x", count: 2))

        let failed = WireReply.frame(id: nil, error: WireError(code: WireError.unknownMethod, message: "no"))
        #expect(
            String(decoding: failed.dropFirst(4), as: UTF8.self)
                == #"{"error":{"code":"unknown-method","message":"no"},"id":null}"#)
        let parsed = try WireReply.parse(Array(failed.dropFirst(4)))
        #expect(parsed.id == nil)
        #expect(throws: WireError(code: WireError.unknownMethod, message: "no")) { try parsed.result(Params.self) }
    }

    @Test("server-side VirtError codes come back as the same VirtError; protocol codes as rpc failures")
    func errorMapping() {
        let original = VirtError(.operationInvalid, .domain, "domain is not running")
        #expect(WireError(original).virtError(.domain, what: "monitor") == original)
        let protocolError = WireError(code: WireError.unknownMethod, message: "unknown method 'x'")
        #expect(protocolError.virtError(.kvm, what: "monitor").code == .operationFailed)
        #expect(protocolError.virtError(.kvm, what: "monitor").message == "monitor: unknown method 'x'")
    }
}
