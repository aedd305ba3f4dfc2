import VirtBase

/// `virt-kvm`'s command line, parsed by hand (the binary stays free of ArgumentParser and Foundation).
enum Command: Equatable {
    /// `supervise --config FILE|-`: start a detached supervisor, print its `LaunchReport`, exit.
    case supervise(configPath: String)
    /// `supervisor --config-fd N --ready-fd N`: the detached supervisor itself (started by `supervise`).
    case supervisor(configFD: Int32, readyFD: Int32)
    /// `hypervisor --config-fd N --monitor-fd N --report-fd N --pid-fd N [--paused]` (started by the supervisor).
    case hypervisor(HypervisorArguments)
    /// `--help`.
    case help

    /// The usage text.
    static let usage = """
        usage: virt-kvm supervise --config FILE|-
               virt-kvm --help

        supervise   start the per-domain supervisor, detached from the caller, with the supervisor
                    configuration (JSON) in FILE or on stdin; prints one JSON line (the supervisor's and
                    hypervisor's pid and start time, or the error) once the guest is ready or failed.

        The supervisor and hypervisor modes are internal: the supervisor starts the hypervisor with its
        descriptors. See docs/processes.md.
        """

    /// Parses `arguments` (without argv[0]).
    static func parse(_ arguments: [String]) throws(VirtError) -> Command {
        guard let mode = arguments.first else { throw usageError("no command given") }
        var options = try OptionList(Array(arguments.dropFirst()))
        let command: Command
        switch mode {
        case "--help", "-h", "help":
            command = .help
        case "supervise":
            command = .supervise(configPath: try options.take("--config"))
        case "supervisor":
            command = .supervisor(
                configFD: try options.descriptor("--config-fd"), readyFD: try options.descriptor("--ready-fd"))
        case "hypervisor":
            command = .hypervisor(
                HypervisorArguments(
                    configFD: try options.descriptor("--config-fd"), monitorFD: try options.descriptor("--monitor-fd"),
                    reportFD: try options.descriptor("--report-fd"), pidFD: try options.descriptor("--pid-fd"),
                    paused: options.flag("--paused")))
        default:
            throw usageError("unknown command '\(mode)'")
        }
        try options.finish()
        return command
    }

    static func usageError(_ message: String) -> VirtError {
        VirtError(.usage, .kvm, "virt-kvm: \(message)\n\(usage)")
    }
}

/// The hypervisor mode's descriptors.
struct HypervisorArguments: Equatable {
    var configFD: Int32
    var monitorFD: Int32
    var reportFD: Int32
    var pidFD: Int32
    var paused: Bool
}

/// `--name value` options and `--flag` flags, each given at most once.
private struct OptionList {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    init(_ arguments: [String]) throws(VirtError) {
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard name.hasPrefix("--") else { throw Command.usageError("unexpected argument '\(name)'") }
            if name == "--paused" {
                flags.insert(name)
                index += 1
                continue
            }
            guard index + 1 < arguments.count else { throw Command.usageError("option '\(name)' needs a value") }
            guard values[name] == nil else { throw Command.usageError("option '\(name)' given twice") }
            values[name] = arguments[index + 1]
            index += 2
        }
    }

    mutating func take(_ name: String) throws(VirtError) -> String {
        guard let value = values.removeValue(forKey: name) else {
            throw Command.usageError("option '\(name)' is required")
        }
        return value
    }

    mutating func descriptor(_ name: String) throws(VirtError) -> Int32 {
        let text = try take(name)
        guard let fd = Int32(text), fd >= 0 else {
            throw Command.usageError("option '\(name)' needs a descriptor number, not '\(text)'")
        }
        return fd
    }

    mutating func flag(_ name: String) -> Bool { flags.remove(name) != nil }

    func finish() throws(VirtError) {
        if let extra = (Array(values.keys) + Array(flags)).sorted().first {
            throw Command.usageError("unknown option '\(extra)'")
        }
    }
}
