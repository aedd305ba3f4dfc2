/// `<memoryBacking>` and `<numatune>`.
extension DomainXMLParser {
    mutating func parseMemoryBacking(_ element: XMLElement) throws(VirtError) -> MemoryBacking {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var backing = MemoryBacking()
        var seen: [String] = []
        for child in element.children {
            guard !child.hasNamespace,
                ["hugepages", "nosharepages", "locked", "source", "access", "allocation", "discard"].contains(
                    child.name)
            else {
                try reader.unknownElement(child)
                continue
            }
            guard try reader.first(child, seen: &seen) else { continue }
            switch child.name {
            case "hugepages":
                try reader.checkAttributes(child, [])
                try reader.checkNoText(child)
                var pages: [MemoryBacking.HugePage] = []
                for page in child.children {
                    guard page.name == "page", !page.hasNamespace else {
                        try reader.unknownElement(page)
                        continue
                    }
                    try reader.checkEmpty(page, attributes: ["size", "unit", "nodeset"])
                    let size = try scaledAttribute(page, "size")
                    guard size > 0 else { throw reader.xmlError("hugepage size can't be zero", page) }
                    pages.append(MemoryBacking.HugePage(sizeKiB: size, nodeset: try reader.cpuset(page, "nodeset")))
                }
                backing.hugepages = pages
            case "nosharepages":
                try reader.checkEmpty(child)
                backing.nosharepages = true
            case "locked":
                try reader.checkEmpty(child)
                backing.locked = true
            case "discard":
                try reader.checkEmpty(child)
                backing.discard = true
            case "source":
                try reader.checkEmpty(child, attributes: ["type"])
                backing.source = try reader.enumValue(
                    MemoryBacking.Source.self, try reader.required(child, "type"), child, attribute: "type")
            case "access":
                try reader.checkEmpty(child, attributes: ["mode"])
                backing.access = try reader.enumValue(
                    MemoryBacking.Access.self, try reader.required(child, "mode"), child, attribute: "mode")
            default:
                try reader.checkEmpty(child, attributes: ["mode", "threads"])
                let mode = try reader.optionalEnum(MemoryBacking.Allocation.Mode.self, child, "mode")
                let threads = try reader.optionalInteger(child, "threads")
                if threads == 0 { throw reader.xmlError("<allocation threads> must be at least 1", child) }
                backing.allocation = MemoryBacking.Allocation(mode: mode, threads: threads)
            }
        }
        return backing
    }

    mutating func parseNUMATune(_ element: XMLElement) throws(VirtError) -> NUMATune {
        try reader.checkAttributes(element, [])
        try reader.checkNoText(element)
        var tune = NUMATune()
        var seenMemory = false
        for child in element.children {
            switch (child.hasNamespace, child.name) {
            case (false, "memory"):
                if seenMemory {
                    try reader.reject("duplicate element <memory> (only one is allowed in <numatune>)", child)
                    continue
                }
                seenMemory = true
                try reader.checkEmpty(child, attributes: ["mode", "nodeset", "placement"])
                var memory = NUMATune.Memory()
                if let mode = child.attribute("mode") { memory.mode = try numaMode(mode, child) }
                memory.nodeset = try reader.cpuset(child, "nodeset")
                if let placement = child.attribute("placement") {
                    guard let value = Placement(rawValue: placement) else {
                        throw VirtError(
                            .configUnsupported, .xml,
                            "Unsupported numatune placement '\(placement)'\(reader.location(child)); "
                                + "expected 'static' or 'auto'")
                    }
                    memory.placement = value
                }
                tune.memory = memory
            case (false, "memnode"):
                try reader.checkEmpty(child, attributes: ["cellid", "mode", "nodeset"])
                let cell = try reader.requiredInteger(child, "cellid")
                let mode = try numaMode(try reader.required(child, "mode"), child)
                guard let nodeset = try reader.cpuset(child, "nodeset") else {
                    throw reader.xmlError("missing required attribute 'nodeset' of <memnode>", child)
                }
                tune.memnodes.append(NUMATune.MemNode(cellID: cell, mode: mode, nodeset: nodeset))
            default:
                try reader.unknownElement(child)
            }
        }
        return tune
    }

    private func numaMode(_ text: String, _ element: XMLElement) throws(VirtError) -> NUMATune.Mode {
        guard let mode = NUMATune.Mode(rawValue: text) else {
            throw VirtError(
                .configUnsupported, .xml,
                "Unsupported NUMA memory tuning mode '\(text)'\(reader.location(element)); expected strict, "
                    + "preferred, interleave or restrictive")
        }
        return mode
    }
}
