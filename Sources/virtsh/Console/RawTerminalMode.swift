import Glibc

/// The local terminal in raw mode (bytes pass unchanged, no echo, no signal keys), with output processing
/// kept so a guest's bare newlines start a new line. Restored by `restore()`.
struct RawTerminalMode {
    private let fd: Int32
    private let saved: termios

    /// Raw mode on `fd`, or nil when `fd` is not a terminal (input is then relayed as it comes).
    init?(fd: Int32) {
        guard isatty(fd) == 1 else { return nil }
        var attributes = termios()
        guard tcgetattr(fd, &attributes) == 0 else { return nil }
        saved = attributes
        self.fd = fd
        cfmakeraw(&attributes)
        attributes.c_oflag |= tcflag_t(OPOST | ONLCR)
        tcsetattr(fd, TCSAFLUSH, &attributes)
    }

    /// Puts the terminal back as it was.
    func restore() {
        var attributes = saved
        tcsetattr(fd, TCSAFLUSH, &attributes)
    }
}
