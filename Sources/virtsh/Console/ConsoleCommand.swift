import Foundation
import VirtCore

extension CommandTable {
    /// `console DOMAIN [--force] [--safe]`, with virsh's help texts.
    static let console = CommandDefinition(
        name: "console", group: .domain, summary: "connect to the guest console",
        description: "Connect the virtual serial console for the guest",
        options: [
            CommonOptions.domain(),
            OptionDefinition("force", .bool, "force console connection (disconnect already connected sessions)"),
            OptionDefinition("safe", .bool, "only connect if safe console handling is supported"),
        ], handler: ConsoleCommand.run)
}

/// `virtsh console` and `start --console`: find the running domain's pty, take it (one session at a time),
/// and relay the terminal to it until Ctrl+], the guest's end, or a signal.
enum ConsoleCommand {
    /// Where ptys live; a live XML pointing anywhere else is not opened.
    static let ptyDirectory = "/dev/pts/"

    static func run(_ context: CommandContext) throws {
        // --safe: every console here is exclusive (a lock on the pty), which is what "safe" asks for.
        try attach(context, to: try context.domain(), force: context.flag("force"))
    }

    /// Attaches the terminal to `domain`'s serial console (virsh's `cmdRunConsole`).
    static func attach(_ context: CommandContext, to domain: DomainSummary, force: Bool) throws {
        let connection = try context.connection()
        let current = try connection.summary(domain.uuid)
        guard current.id != nil else { throw CommandFailure("The domain is not running") }
        // Typing into a guest changes it: not for read-only connections, as libvirt's virDomainOpenConsole.
        if context.shell.settings.readOnly {
            throw CommandFailure("operation forbidden: read only access prevents virDomainOpenConsole")
        }
        let path = try ptyPath(of: try connection.definition(domain.uuid, live: true), name: current.name)
        let fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CommandFailure(
                "operation failed: cannot open the console of domain '\(current.name)' at \(path): "
                    + String(cString: strerror(errno)))
        }
        defer { close(fd) }
        try ConsoleLock.acquire(fd: fd, domain: current.name, force: force)

        context.printExtra("Connected to domain '\(current.name)'\n")
        context.printExtra("Escape character is ^] (Ctrl + ])\n")
        context.terminal.flush()
        let end = try ConsoleRelay(ptyFD: fd).run()
        try report(end, domain: current, connection: connection, context: context)
    }

    /// The pty of the domain's serial port (or a lone `<console>`) from its live definition.
    static func ptyPath(of definition: DomainDefinition, name: String) throws -> String {
        guard let device = definition.devices.serials.first ?? definition.devices.consoles.first else {
            throw CommandFailure(
                "operation failed: domain '\(name)' has no serial console; add <serial type='pty'/> to its "
                    + "<devices> (virtsh edit \(name)) and restart it")
        }
        guard device.type == .pty else {
            throw CommandFailure(
                "operation failed: the serial port of domain '\(name)' is <serial type='\(device.type.rawValue)'>, "
                    + "not a pty; change it to <serial type='pty'/> (virtsh edit \(name)) and restart the domain")
        }
        guard let path = device.sourcePath, path.hasPrefix(ptyDirectory), !path.contains("/../") else {
            throw CommandFailure(
                "internal error: the running domain '\(name)' shows no pty for its serial port in its live XML; "
                    + "restart the domain")
        }
        return path
    }

    /// How long a hung-up console waits for the driver to report the domain's end (its supervisor reaps
    /// the hypervisor and records the end a moment after the pty closes).
    static let stopWaitMicroseconds: UInt32 = 1_000_000
    static let stopPollMicroseconds: UInt32 = 20_000

    private static func hasStopped(_ domain: DomainSummary, _ connection: Connection) -> Bool {
        var waited: UInt32 = 0
        while true {
            guard let summary = try? connection.summary(domain.uuid), summary.id != nil else { return true }
            if waited >= stopWaitMicroseconds { return false }
            usleep(stopPollMicroseconds)
            waited += stopPollMicroseconds
        }
    }

    /// What the user sees when the session ends other than by Ctrl+] (which, as in virsh, says nothing).
    private static func report(
        _ end: ConsoleEnd, domain: DomainSummary, connection: Connection, context: CommandContext
    ) throws {
        switch end {
        case .detached, .outputClosed:
            return
        case .hangup:
            let stopped = hasStopped(domain, connection)
            context.printExtra(
                stopped
                    ? "\nDomain '\(domain.name)' stopped; console closed\n"
                    : "\nConsole of domain '\(domain.name)' closed: its serial port hung up\n")
        case .takenOver:
            throw CommandFailure(
                "operation failed: another session took over the console of domain '\(domain.name)' (console --force)")
        case .signal(let number):
            // The terminal is already restored: let the signal do what it normally does.
            context.terminal.flush()
            signal(number, SIG_DFL)
            raise(number)
            throw CommandFailure("console of domain '\(domain.name)' ended by signal \(number)")
        }
    }
}
