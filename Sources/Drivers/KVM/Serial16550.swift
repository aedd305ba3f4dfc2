/// A 16550A UART (COM1) as Linux's 8250 driver and polling guests expect it: THR/RBR, IER, IIR with FIFO
/// bits, FCR, LCR/DLAB, MCR with loopback, LSR, MSR, SCR. Register semantics: PC16550D datasheet and
/// `linux/serial_reg.h`; the THRE interrupt follows the datasheet (pending after THR empties or THRI is
/// enabled, cleared by an IIR read that reports it or a THR write), as QEMU's `hw/char/serial.c` does.
final class Serial16550: PortDevice {
    /// COM1's I/O base and its 8 registers.
    static let com1Base: UInt16 = 0x3f8
    static let registerCount: UInt16 = 8
    /// COM1's ISA interrupt.
    static let com1IRQ: UInt32 = 4

    // Register offsets (serial_reg.h).
    static let rbrTHR: UInt64 = 0
    static let ier: UInt64 = 1
    static let iirFCR: UInt64 = 2
    static let lcr: UInt64 = 3
    static let mcr: UInt64 = 4
    static let lsr: UInt64 = 5
    static let msr: UInt64 = 6
    static let scr: UInt64 = 7

    // IER bits.
    static let ierRDI: UInt8 = 0x01
    static let ierTHRI: UInt8 = 0x02
    static let ierRLSI: UInt8 = 0x04
    static let ierMask: UInt8 = 0x0f
    // IIR values.
    static let iirNoInterrupt: UInt8 = 0x01
    static let iirTHRI: UInt8 = 0x02
    static let iirRDI: UInt8 = 0x04
    static let iirRLSI: UInt8 = 0x06
    static let iirFIFOEnabled: UInt8 = 0xc0
    // FCR bits.
    static let fcrEnableFIFO: UInt8 = 0x01
    static let fcrClearRX: UInt8 = 0x02
    // LCR / MCR bits.
    static let lcrDLAB: UInt8 = 0x80
    static let mcrDTR: UInt8 = 0x01
    static let mcrRTS: UInt8 = 0x02
    static let mcrOUT1: UInt8 = 0x04
    static let mcrOUT2: UInt8 = 0x08
    static let mcrLoop: UInt8 = 0x10
    // LSR bits.
    static let lsrDR: UInt8 = 0x01
    static let lsrOE: UInt8 = 0x02
    static let lsrTHRE: UInt8 = 0x20
    static let lsrTEMT: UInt8 = 0x40
    static let lsrErrors: UInt8 = 0x1e
    // MSR bits.
    static let msrCTS: UInt8 = 0x10
    static let msrDSR: UInt8 = 0x20
    static let msrRI: UInt8 = 0x40
    static let msrDCD: UInt8 = 0x80
    /// Reset values (vm-superio / QEMU): 8N1, OUT2 set, modem lines up, 9600 baud (divisor 12).
    static let resetLCR: UInt8 = 0x03
    static let resetMCR: UInt8 = 0x08
    static let resetMSR: UInt8 = 0xb0
    static let resetDivisor: UInt16 = 12
    /// Host-side input buffered beyond the FIFO before the input thread stops reading.
    static let inputLimit = 1 << 20

    private var ierValue: UInt8 = 0
    private var lcrValue: UInt8 = resetLCR
    private var mcrValue: UInt8 = resetMCR
    private var lsrErrorBits: UInt8 = 0
    private var scrValue: UInt8 = 0
    private var fcrValue: UInt8 = 0
    private var divisor: UInt16 = resetDivisor
    private var thrInterruptPending = false
    private var rx: [UInt8] = []
    private var rxHead = 0
    private var lineHigh = false

    private let output: (UInt8) -> Void
    private let setIRQ: (Bool) -> Void

    /// `output` receives transmitted bytes; `setIRQ` drives the interrupt line.
    init(output: @escaping (UInt8) -> Void, setIRQ: @escaping (Bool) -> Void) {
        self.output = output
        self.setIRQ = setIRQ
    }

    /// Bytes waiting for the guest.
    var pendingInput: Int { rx.count - rxHead }

    /// Host input arrives (called with the bus lock held).
    func receive(_ bytes: [UInt8]) {
        if pendingInput + bytes.count > Self.inputLimit {
            lsrErrorBits |= Self.lsrOE
            return
        }
        rx.append(contentsOf: bytes)
        updateInterrupt()
    }

    private var lsrValue: UInt8 {
        (pendingInput > 0 ? Self.lsrDR : 0) | Self.lsrTHRE | Self.lsrTEMT | lsrErrorBits
    }

    private var msrValue: UInt8 {
        guard mcrValue & Self.mcrLoop != 0 else { return Self.resetMSR }
        var v: UInt8 = 0
        if mcrValue & Self.mcrDTR != 0 { v |= Self.msrDSR }
        if mcrValue & Self.mcrRTS != 0 { v |= Self.msrCTS }
        if mcrValue & Self.mcrOUT1 != 0 { v |= Self.msrRI }
        if mcrValue & Self.mcrOUT2 != 0 { v |= Self.msrDCD }
        return v
    }

    private var interruptIdentification: UInt8 {
        if ierValue & Self.ierRLSI != 0 && lsrErrorBits != 0 { return Self.iirRLSI }
        if ierValue & Self.ierRDI != 0 && pendingInput > 0 { return Self.iirRDI }
        if ierValue & Self.ierTHRI != 0 && thrInterruptPending { return Self.iirTHRI }
        return Self.iirNoInterrupt
    }

    private func updateInterrupt() {
        let high = interruptIdentification != Self.iirNoInterrupt
        if high != lineHigh {
            lineHigh = high
            setIRQ(high)
        }
    }

    func read(offset: UInt64, size: Int) -> UInt64 {
        let dlab = lcrValue & Self.lcrDLAB != 0
        var value: UInt8
        switch offset {
        case Self.rbrTHR where dlab:
            value = UInt8(truncatingIfNeeded: divisor)
        case Self.rbrTHR:
            value = 0
            if pendingInput > 0 {
                value = rx[rxHead]
                rxHead += 1
                if rxHead == rx.count {
                    rx.removeAll(keepingCapacity: true)
                    rxHead = 0
                }
            }
        case Self.ier where dlab:
            value = UInt8(truncatingIfNeeded: divisor >> 8)
        case Self.ier:
            value = ierValue
        case Self.iirFCR:
            value = interruptIdentification
            if value == Self.iirTHRI { thrInterruptPending = false }
            if fcrValue & Self.fcrEnableFIFO != 0 { value |= Self.iirFIFOEnabled }
        case Self.lcr:
            value = lcrValue
        case Self.mcr:
            value = mcrValue
        case Self.lsr:
            value = lsrValue
            lsrErrorBits = 0
        case Self.msr:
            value = msrValue
        default:
            value = scrValue
        }
        updateInterrupt()
        return UInt64(value)
    }

    func write(offset: UInt64, size: Int, value: UInt64) {
        let byte = UInt8(truncatingIfNeeded: value)
        let dlab = lcrValue & Self.lcrDLAB != 0
        switch offset {
        case Self.rbrTHR where dlab:
            divisor = (divisor & 0xff00) | UInt16(byte)
        case Self.rbrTHR:
            if mcrValue & Self.mcrLoop != 0 {
                rx.append(byte)
            } else {
                output(byte)
            }
            // Transmission is instantaneous, so THR is empty again at once.
            thrInterruptPending = true
        case Self.ier where dlab:
            divisor = (divisor & 0x00ff) | (UInt16(byte) << 8)
        case Self.ier:
            let enabledTHRI = byte & Self.ierTHRI != 0 && ierValue & Self.ierTHRI == 0
            ierValue = byte & Self.ierMask
            if enabledTHRI { thrInterruptPending = true }
        case Self.iirFCR:
            fcrValue = byte
            if byte & Self.fcrClearRX != 0 {
                rx.removeAll(keepingCapacity: true)
                rxHead = 0
            }
        case Self.lcr:
            lcrValue = byte
        case Self.mcr:
            mcrValue = byte & 0x1f
        case Self.scr:
            scrValue = byte
        default:
            break  // LSR and MSR writes are factory-test registers: ignored.
        }
        updateInterrupt()
    }
}
