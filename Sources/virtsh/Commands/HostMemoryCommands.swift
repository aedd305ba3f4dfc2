import VirtCore

/// `nodecpumap`, `nodememstats`, `freecell`, `freepages` and `allocpages`: virsh's options, text and messages.
enum HostMemoryCommands {
    private static let cellno = OptionDefinition("cellno", .number, "NUMA cell number")
    private static let pagesize = OptionDefinition("pagesize", .number, "page size (in kibibytes)")

    /// The table entries (the host table sorts them into virsh's order).
    static let definitions: [CommandDefinition] = [
        CommandDefinition(
            name: "nodecpumap", group: .host, summary: "node cpu map",
            description: "Displays the node's total number of CPUs, the number of online CPUs and the list of "
                + "online CPUs.",
            options: [OptionDefinition("pretty", .bool, "return human readable output"), CommonOptions.json],
            supportsJSON: true, handler: nodecpumap),
        CommandDefinition(
            name: "nodememstats", group: .host, summary: "Prints memory stats of the node.",
            description: "Returns memory stats of the node, in kilobytes.",
            options: [OptionDefinition("cell", .number, "prints specified cell statistics only."), CommonOptions.json],
            supportsJSON: true, handler: nodememstats),
        CommandDefinition(
            name: "freecell", group: .host, summary: "NUMA free memory",
            description: "display available free memory for the NUMA cell.",
            options: [
                cellno, OptionDefinition("all", .bool, "show free memory for all NUMA cells"), CommonOptions.json,
            ],
            supportsJSON: true, handler: freecell),
        CommandDefinition(
            name: "freepages", group: .host, summary: "NUMA free pages",
            description: "display available free pages for the NUMA cell.",
            options: [
                cellno, pagesize, OptionDefinition("all", .bool, "show free pages for all NUMA cells"),
                CommonOptions.json,
            ],
            supportsJSON: true, handler: freepages),
        CommandDefinition(
            name: "allocpages", group: .host, summary: "Manipulate pages pool size",
            description: "Allocate or free some pages in the pool for NUMA cell.",
            options: [
                OptionDefinition("pagesize", .number, "page size (in kibibytes)", required: true),
                OptionDefinition("pagecount", .number, "page count", required: true), cellno,
                OptionDefinition("add", .bool, "instead of setting new pool size add pages to it"),
                OptionDefinition("all", .bool, "set on all NUMA cells"), CommonOptions.json,
            ],
            supportsJSON: true, handler: allocpages),
    ]

    /// virsh's `VSH_EXCLUSIVE_OPTIONS_VAR(all, cellno)`, checked before any value is parsed.
    private static func refuseAllWithCell(_ context: CommandContext) throws {
        if context.flag("all") && context.value("cellno") != nil {
            throw CommandFailure("Options --all and --cellno are mutually exclusive")
        }
    }

    private static func cell(_ context: CommandContext, _ name: String = "cellno") throws -> Int? {
        try context.value(name).map { try OptionNumber.int($0, option: name) }
    }

    static func nodecpumap(_ context: CommandContext) throws {
        let map = try context.connection().cpuMap()
        if context.json {
            return try context.printJSON(
                NodeCPUMapJSON(
                    cpusPresent: map.present, cpusOnline: map.online, onlineCPUs: map.map.description,
                    map: map.map.map(total: map.present)))
        }
        func line(_ label: String, _ value: String) -> String { label.padding(15) + " " + value + "\n" }
        context.print(
            line("CPUs present:", "\(map.present)") + line("CPUs online:", "\(map.online)")
                + line("CPU map:", context.flag("pretty") ? map.map.description : map.map.map(total: map.present)))
    }

    static func nodememstats(_ context: CommandContext) throws {
        let number = try cell(context, "cell")
        let connection = try context.connection()
        // libvirt's VIR_NODE_MEMORY_STATS_ALL_CELLS (-1) asks for the host.
        let chosen = number == -1 ? nil : number
        let stats: NodeMemoryStatistics
        do {
            stats = try connection.memoryStats(cell: chosen)
        } catch let error as VirtError {
            throw CommandFailure("Unable to get number of memory stats", error.description)
        }
        if context.json { return try context.printJSON(NodeMemoryStatsJSON(cell: chosen, stats)) }
        context.print(
            stats.fields.map {
                $0.name.padding(7) + ": " + String(repeating: " ", count: max(0, 20 - "\($0.valueKiB)".count))
                    + "\($0.valueKiB) KiB\n"
            }.joined())
    }

    static func freecell(_ context: CommandContext) throws {
        try refuseAllWithCell(context)
        let number = try cell(context)
        let connection = try context.connection()
        if context.flag("all") {
            let free = try connection.freeMemory(cells: .all)
            let total = free.cells.reduce(0) { $0 + $1.freeKiB }
            if context.json { return try context.printJSON(FreeCellJSON(free.cells, totalKiB: total)) }
            func right(_ text: String, _ width: Int) -> String {
                String(repeating: " ", count: max(0, width - text.count)) + text
            }
            context.print(
                free.cells.map { right("\($0.id)", 5) + ": " + right("\($0.freeKiB)", 10) + " KiB\n" }.joined())
            // virsh prints the separator and the total as extras, which -q drops.
            context.printExtra(
                String(repeating: "-", count: 20) + "\n" + right("Total", 5) + ": " + right("\(total)", 10) + " KiB\n")
        } else if let number {
            let free = try connection.freeMemory(cells: .cell(number))
            if context.json { return try context.printJSON(FreeCellJSON(free.cells, totalKiB: nil)) }
            context.print(free.cells.map { "\($0.id): \($0.freeKiB) KiB\n" }.joined())
        } else {
            let free = try connection.freeMemory(cells: .host)
            if context.json { return try context.printJSON(FreeCellJSON([], totalKiB: free.hostFreeKiB)) }
            context.print("Total: \(free.hostFreeKiB) KiB\n")
        }
    }

    static func freepages(_ context: CommandContext) throws {
        try refuseAllWithCell(context)
        let number = try cell(context)
        let size = try context.value("pagesize").map { try OptionNumber.pageSizeKiB($0, option: "pagesize") }
        let connection = try context.connection()
        if context.flag("all") {
            let reports = try connection.freePages(sizesKiB: size.map { [$0] }, cells: .all)
            if context.json { return try context.printJSON(FreePagesJSON(reports)) }
            context.print(
                reports.map { report in
                    "Node \(report.cell ?? -1):\n" + report.counts.map { "\($0.sizeKiB)KiB: \($0.free)\n" }.joined()
                        + "\n"
                }.joined())
            return
        }
        guard let number else { throw CommandFailure("missing cellno argument") }
        guard let size else { throw CommandFailure("missing pagesize argument") }
        // Cell -1 is libvirt's "the whole host".
        let reports = try connection.freePages(sizesKiB: [size], cells: number == -1 ? .host : .cell(number))
        if context.json { return try context.printJSON(FreePagesJSON(reports)) }
        context.print(reports.flatMap(\.counts).map { "\($0.sizeKiB)KiB: \($0.free)\n" }.joined())
    }

    static func allocpages(_ context: CommandContext) throws {
        try refuseAllWithCell(context)
        let number = try cell(context)
        let size = try OptionNumber.pageSizeKiB(try context.requiredValue("pagesize"), option: "pagesize")
        let count = try OptionNumber.unsigned(try context.requiredValue("pagecount"), option: "pagecount")
        let cells: NodeCellSelection =
            context.flag("all") ? .all : number.map { $0 == -1 ? .host : .cell($0) } ?? .host
        let changes = try context.connection().allocPages(
            sizeKiB: size, count: count, cells: cells, add: context.flag("add"))
        if context.json { return try context.printJSON(AllocPagesJSON(changes)) }
    }
}
