/// The session's settings: top-level options and mode.
struct ShellSettings {
    var uri: String
    var readOnly = false
    var quiet = false
    var timing = false
    /// Reading commands from a terminal, line by line.
    var interactive = false
    /// A connection has been opened at some point (a later failure is an ordinary command failure).
    var connectedOnce = false
    /// The first connection failed in batch mode: stop, as virsh does.
    var abortRequested = false
}
