/// An i8042 keyboard controller, enough for Linux's i8042/atkbd probe, the 0xFE CPU-reset command, the
/// output-port reset (0xD1 with bit 0 clear), and host-injected Ctrl+Alt+Del (the power button before
/// ACPI; Firecracker `devices/legacy/i8042.rs` does the same). Command set: IBM PS/2 technical reference.
final class I8042Controller: PortDevice {
    /// Data port 0x60 and status/command port 0x64, claimed as 0x60..0x64.
    static let dataPort: UInt16 = 0x60
    static let claimedLength: UInt16 = 5
    static let commandOffset: UInt64 = 4
    /// The keyboard's ISA interrupt.
    static let keyboardIRQ: UInt32 = 1

    // Status register bits.
    static let statusOutputFull: UInt8 = 0x01
    static let statusSystemFlag: UInt8 = 0x04
    static let statusLastWasCommand: UInt8 = 0x08
    static let statusNotInhibited: UInt8 = 0x10
    // Controller configuration byte bits.
    static let configKeyboardInterrupt: UInt8 = 0x01
    static let configSystemFlag: UInt8 = 0x04
    static let configTranslate: UInt8 = 0x40
    static let defaultConfig: UInt8 = configKeyboardInterrupt | configSystemFlag | configTranslate
    // Controller commands (port 0x64).
    static let cmdReadConfig: UInt8 = 0x20
    static let cmdWriteConfig: UInt8 = 0x60
    static let cmdDisableAux: UInt8 = 0xa7
    static let cmdEnableAux: UInt8 = 0xa8
    static let cmdTestAux: UInt8 = 0xa9
    static let cmdSelfTest: UInt8 = 0xaa
    static let cmdTestKeyboard: UInt8 = 0xab
    static let cmdDisableKeyboard: UInt8 = 0xad
    static let cmdEnableKeyboard: UInt8 = 0xae
    static let cmdReadOutputPort: UInt8 = 0xd0
    static let cmdWriteOutputPort: UInt8 = 0xd1
    static let cmdWriteKeyboardOutput: UInt8 = 0xd2
    static let cmdPulseReset: UInt8 = 0xfe
    /// Replies.
    static let selfTestPassed: UInt8 = 0x55
    static let interfaceTestPassed: UInt8 = 0x00
    static let keyboardAck: UInt8 = 0xfa
    static let keyboardBATPassed: UInt8 = 0xaa
    /// Output-port bit 0: clearing it resets the CPU.
    static let outputPortResetLine: UInt8 = 0x01
    /// Keyboard commands that take one parameter byte (LEDs, scancode set, typematic rate).
    static let keyboardCommandsWithParameter: Set<UInt8> = [0xed, 0xf0, 0xf3]
    static let keyboardReset: UInt8 = 0xff
    static let keyboardIdentify: UInt8 = 0xf2
    static let keyboardEcho: UInt8 = 0xee
    /// MF2 keyboard identity (after the ACK).
    static let keyboardID: [UInt8] = [0xab, 0x83]
    /// Ctrl+Alt+Del press and release in scancode set 1 (translated) and set 2.
    static let ctrlAltDelSet1: [UInt8] = [0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d]
    static let ctrlAltDelSet2: [UInt8] = [0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14]

    private var config: UInt8 = defaultConfig
    private var status: UInt8 = statusSystemFlag | statusNotInhibited
    private var outputQueue: [UInt8] = []
    private var pendingCommand: UInt8?
    private var keyboardParameterPending = false
    private var outputPort: UInt8 = 0x03
    private var lineHigh = false

    private let setIRQ: (Bool) -> Void
    private let onReset: () -> Void

    init(setIRQ: @escaping (Bool) -> Void, onReset: @escaping () -> Void) {
        self.setIRQ = setIRQ
        self.onReset = onReset
    }

    /// Queues Ctrl+Alt+Del as the keyboard would send it (called with the bus lock held).
    func injectCtrlAltDel() {
        outputQueue.append(
            contentsOf: config & Self.configTranslate != 0 ? Self.ctrlAltDelSet1 : Self.ctrlAltDelSet2)
        updateInterrupt()
    }

    private func reply(_ bytes: [UInt8]) {
        outputQueue.append(contentsOf: bytes)
    }

    private func updateInterrupt() {
        let high = !outputQueue.isEmpty && config & Self.configKeyboardInterrupt != 0
        if high != lineHigh {
            lineHigh = high
            setIRQ(high)
        }
    }

    func read(offset: UInt64, size: Int) -> UInt64 {
        if offset == Self.commandOffset {
            return UInt64(status | (outputQueue.isEmpty ? 0 : Self.statusOutputFull))
        }
        guard offset == 0 else { return 0xff }
        guard !outputQueue.isEmpty else { return 0 }
        let byte = outputQueue.removeFirst()
        // Pulse the line so the next byte is a new edge.
        if lineHigh {
            lineHigh = false
            setIRQ(false)
        }
        updateInterrupt()
        return UInt64(byte)
    }

    func write(offset: UInt64, size: Int, value: UInt64) {
        let byte = UInt8(truncatingIfNeeded: value)
        if offset == Self.commandOffset {
            status |= Self.statusLastWasCommand
            command(byte)
        } else if offset == 0 {
            status &= ~Self.statusLastWasCommand
            data(byte)
        }
        updateInterrupt()
    }

    private func command(_ byte: UInt8) {
        pendingCommand = nil
        switch byte {
        case Self.cmdReadConfig: reply([config])
        case Self.cmdWriteConfig, Self.cmdWriteOutputPort, Self.cmdWriteKeyboardOutput: pendingCommand = byte
        case Self.cmdSelfTest: reply([Self.selfTestPassed])
        case Self.cmdTestKeyboard, Self.cmdTestAux: reply([Self.interfaceTestPassed])
        case Self.cmdReadOutputPort: reply([outputPort])
        case Self.cmdDisableKeyboard: config |= 0x10
        case Self.cmdEnableKeyboard: config &= ~0x10
        case Self.cmdDisableAux: config |= 0x20
        case Self.cmdEnableAux: config &= ~0x20
        case Self.cmdPulseReset: onReset()
        default: break
        }
    }

    private func data(_ byte: UInt8) {
        if let command = pendingCommand {
            pendingCommand = nil
            switch command {
            case Self.cmdWriteConfig:
                config = byte
            case Self.cmdWriteOutputPort:
                outputPort = byte
                if byte & Self.outputPortResetLine == 0 { onReset() }
            default:
                reply([byte])
            }
            return
        }
        if keyboardParameterPending {
            keyboardParameterPending = false
            reply([Self.keyboardAck])
            return
        }
        switch byte {
        case Self.keyboardReset: reply([Self.keyboardAck, Self.keyboardBATPassed])
        case Self.keyboardIdentify: reply([Self.keyboardAck] + Self.keyboardID)
        case Self.keyboardEcho: reply([Self.keyboardEcho])
        case let c where Self.keyboardCommandsWithParameter.contains(c):
            keyboardParameterPending = true
            reply([Self.keyboardAck])
        default: reply([Self.keyboardAck])
        }
    }
}
