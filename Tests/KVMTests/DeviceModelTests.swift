import Testing

@testable import KVM

/// Register-level behaviour of the emulated devices, without KVM.
@Suite("device models")
struct DeviceModelTests {
    final class Line: @unchecked Sendable {
        var high = false
        var output: [UInt8] = []
        var resets = 0
    }

    @Test func uartResetStateIsWhatLinuxExpects() {
        let line = Line()
        let uart = Serial16550(output: { line.output.append($0) }, setIRQ: { line.high = $0 })
        #expect(uart.read(offset: Serial16550.lsr, size: 1) == 0x60, "THRE|TEMT, so drivers never wait (CH #163)")
        #expect(uart.read(offset: Serial16550.iirFCR, size: 1) == 0x01, "no interrupt pending")
        #expect(uart.read(offset: Serial16550.lcr, size: 1) == 0x03)
        #expect(uart.read(offset: Serial16550.msr, size: 1) == 0xb0)
        uart.write(offset: Serial16550.rbrTHR, size: 1, value: 0x41)
        #expect(line.output == [0x41])
        #expect(!line.high, "no interrupts while IER is 0")
    }

    @Test func uartDivisorLatchAndScratch() {
        let uart = Serial16550(output: { _ in }, setIRQ: { _ in })
        uart.write(offset: Serial16550.lcr, size: 1, value: 0x83)
        uart.write(offset: Serial16550.rbrTHR, size: 1, value: 0x01)
        uart.write(offset: Serial16550.ier, size: 1, value: 0x00)
        #expect(uart.read(offset: Serial16550.rbrTHR, size: 1) == 0x01)
        #expect(uart.read(offset: Serial16550.ier, size: 1) == 0x00)
        uart.write(offset: Serial16550.lcr, size: 1, value: 0x03)
        uart.write(offset: Serial16550.ier, size: 1, value: 0xff)
        #expect(uart.read(offset: Serial16550.ier, size: 1) == 0x0f, "only the four defined IER bits stick")
        uart.write(offset: Serial16550.scr, size: 1, value: 0x5a)
        #expect(uart.read(offset: Serial16550.scr, size: 1) == 0x5a)
    }

    @Test func uartTHREInterruptFollowsTheDatasheet() {
        let line = Line()
        let uart = Serial16550(output: { line.output.append($0) }, setIRQ: { line.high = $0 })
        uart.write(offset: Serial16550.iirFCR, size: 1, value: 0x01)
        uart.write(offset: Serial16550.ier, size: 1, value: UInt64(Serial16550.ierTHRI))
        #expect(line.high, "enabling THRI with an empty THR raises the interrupt")
        #expect(uart.read(offset: Serial16550.iirFCR, size: 1) == 0xc2, "THRI with the FIFO bits")
        #expect(!line.high, "reading IIR acknowledges THRE")
        #expect(uart.read(offset: Serial16550.iirFCR, size: 1) == 0xc1)
        uart.write(offset: Serial16550.rbrTHR, size: 1, value: 0x42)
        #expect(line.high, "the THR empties again at once")
    }

    @Test func uartReceivesInputAndRaisesRDI() {
        let line = Line()
        let uart = Serial16550(output: { _ in }, setIRQ: { line.high = $0 })
        uart.write(offset: Serial16550.ier, size: 1, value: UInt64(Serial16550.ierRDI))
        uart.receive([0x61, 0x62])
        #expect(line.high)
        #expect(uart.read(offset: Serial16550.lsr, size: 1) & 0x01 == 0x01)
        #expect(uart.read(offset: Serial16550.iirFCR, size: 1) == 0x04)
        #expect(uart.read(offset: Serial16550.rbrTHR, size: 1) == 0x61)
        #expect(uart.read(offset: Serial16550.rbrTHR, size: 1) == 0x62)
        #expect(!line.high)
        #expect(uart.read(offset: Serial16550.lsr, size: 1) == 0x60)
    }

    @Test func uartLoopbackReflectsModemLines() {
        let line = Line()
        let uart = Serial16550(output: { line.output.append($0) }, setIRQ: { _ in })
        // Linux's 8250 autoconfig: LOOP | RTS | OUT2 must read back as CTS | DCD (0x90) in MSR's top nibble.
        uart.write(offset: Serial16550.mcr, size: 1, value: 0x1a)
        #expect(uart.read(offset: Serial16550.msr, size: 1) & 0xf0 == 0x90)
        uart.write(offset: Serial16550.rbrTHR, size: 1, value: 0x55)
        #expect(line.output.isEmpty, "loopback keeps output off the line")
        #expect(uart.read(offset: Serial16550.rbrTHR, size: 1) == 0x55)
    }

    @Test func i8042ResetCommandsAndSelfTest() {
        let line = Line()
        let kbd = I8042Controller(setIRQ: { line.high = $0 }, onReset: { line.resets += 1 })
        kbd.write(offset: I8042Controller.commandOffset, size: 1, value: UInt64(I8042Controller.cmdSelfTest))
        #expect(kbd.read(offset: I8042Controller.commandOffset, size: 1) & 0x01 == 0x01)
        #expect(kbd.read(offset: 0, size: 1) == 0x55)
        kbd.write(offset: I8042Controller.commandOffset, size: 1, value: 0xfe)
        #expect(line.resets == 1)
        kbd.write(offset: I8042Controller.commandOffset, size: 1, value: UInt64(I8042Controller.cmdWriteOutputPort))
        kbd.write(offset: 0, size: 1, value: 0x02)
        #expect(line.resets == 2, "clearing output-port bit 0 resets the CPU")
    }

    @Test func i8042CtrlAltDelUsesTheActiveScancodeSet() {
        let line = Line()
        let kbd = I8042Controller(setIRQ: { line.high = $0 }, onReset: {})
        kbd.injectCtrlAltDel()
        #expect(line.high)
        var codes: [UInt8] = []
        while kbd.read(offset: I8042Controller.commandOffset, size: 1) & 0x01 != 0 {
            codes.append(UInt8(kbd.read(offset: 0, size: 1)))
        }
        #expect(codes == I8042Controller.ctrlAltDelSet1)
        #expect(!line.high)
        kbd.write(offset: I8042Controller.commandOffset, size: 1, value: UInt64(I8042Controller.cmdWriteConfig))
        kbd.write(offset: 0, size: 1, value: 0x01)
        kbd.injectCtrlAltDel()
        #expect(kbd.read(offset: 0, size: 1) == 0x14, "set 2 once translation is off")
    }

    @Test func debugExitPortPowersOffWithTheValue() {
        final class Box: @unchecked Sendable { var exit: GuestExit? }
        let box = Box()
        let port = DebugExitPort { box.exit = $0 }
        port.write(offset: 0, size: 1, value: 7)
        #expect(box.exit == .poweroff(code: 7))
    }
}
