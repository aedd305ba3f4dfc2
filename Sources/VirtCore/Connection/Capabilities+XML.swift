/// libvirt's capabilities document layout (`virCapabilitiesFormatXML`): two-space indentation, a blank
/// line after the opening tag and after `</host>` and each `</guest>`.
extension Capabilities {
    /// The capabilities XML, ending with a newline.
    public func xml() -> String {
        var out = XMLLines()
        out.line(0, "<capabilities>")
        out.blank()
        formatHost(&out)
        out.blank()
        for guest in guests {
            formatGuest(guest, &out)
            out.blank()
        }
        out.line(0, "</capabilities>")
        return out.text
    }

    private func formatHost(_ out: inout XMLLines) {
        out.line(1, "<host>")
        if let uuid = host.uuid { out.line(2, "<uuid>\(XMLLines.escape(uuid))</uuid>") }
        let cpu = host.cpu
        out.line(2, "<cpu>")
        out.line(3, "<arch>\(XMLLines.escape(cpu.arch))</arch>")
        if !cpu.hostFeatures.isEmpty {
            out.line(3, "<features>")
            for feature in cpu.hostFeatures { out.line(4, "<\(feature)/>") }
            out.line(3, "</features>")
        }
        if let model = cpu.model { out.line(3, "<model>\(XMLLines.escape(model))</model>") }
        if let vendor = cpu.vendor { out.line(3, "<vendor>\(XMLLines.escape(vendor))</vendor>") }
        if let t = cpu.topology {
            out.line(3, "<topology sockets='\(t.sockets)' dies='\(t.dies)' cores='\(t.cores)' threads='\(t.threads)'/>")
        }
        for feature in cpu.features { out.line(3, "<feature name='\(XMLLines.escape(feature))'/>") }
        for size in cpu.pageSizesKiB { out.line(3, "<pages unit='KiB' size='\(size)'/>") }
        out.line(2, "</cpu>")
        if host.powerManagement.isEmpty {
            out.line(2, "<power_management/>")
        } else {
            out.line(2, "<power_management>")
            for mode in host.powerManagement { out.line(3, "<\(mode)/>") }
            out.line(2, "</power_management>")
        }
        if let iommu = host.iommuSupport { out.line(2, "<iommu support='\(iommu ? "yes" : "no")'/>") }
        if !host.cells.isEmpty { formatTopology(&out) }
        for model in host.securityModels {
            out.line(2, "<secmodel>")
            out.line(3, "<model>\(XMLLines.escape(model.model))</model>")
            out.line(3, "<doi>\(XMLLines.escape(model.doi))</doi>")
            for base in model.baseLabels {
                out.line(
                    3,
                    "<baselabel type='\(XMLLines.escape(base.domainType))'>\(XMLLines.escape(base.label))</baselabel>")
            }
            out.line(2, "</secmodel>")
        }
        out.line(1, "</host>")
    }

    private func formatTopology(_ out: inout XMLLines) {
        out.line(2, "<topology>")
        out.line(3, "<cells num='\(host.cells.count)'>")
        for cell in host.cells {
            out.line(4, "<cell id='\(cell.id)'>")
            if cell.memoryKiB != 0 { out.line(5, "<memory unit='KiB'>\(cell.memoryKiB)</memory>") }
            for page in cell.pages { out.line(5, "<pages unit='KiB' size='\(page.sizeKiB)'>\(page.count)</pages>") }
            if !cell.distances.isEmpty {
                out.line(5, "<distances>")
                for sibling in cell.distances { out.line(6, "<sibling id='\(sibling.id)' value='\(sibling.value)'/>") }
                out.line(5, "</distances>")
            }
            if cell.cpus.isEmpty {
                out.line(5, "<cpus num='0'/>")
            } else {
                out.line(5, "<cpus num='\(cell.cpus.count)'>")
                for cpu in cell.cpus {
                    guard let place = cpu.topology else {
                        out.line(6, "<cpu id='\(cpu.id)'/>")
                        continue
                    }
                    out.line(
                        6,
                        "<cpu id='\(cpu.id)' socket_id='\(place.socketID)' die_id='\(place.dieID)' "
                            + "core_id='\(place.coreID)' siblings='\(place.siblings)'/>")
                }
                out.line(5, "</cpus>")
            }
            out.line(4, "</cell>")
        }
        out.line(3, "</cells>")
        out.line(2, "</topology>")
    }

    private func formatGuest(_ guest: Guest, _ out: inout XMLLines) {
        out.line(1, "<guest>")
        out.line(2, "<os_type>\(XMLLines.escape(guest.osType))</os_type>")
        out.line(2, "<arch name='\(XMLLines.escape(guest.arch))'>")
        out.line(3, "<wordsize>\(guest.wordSize)</wordsize>")
        if let emulator = guest.emulator { out.line(3, "<emulator>\(XMLLines.escape(emulator))</emulator>") }
        for machine in guest.machines { out.line(3, "<machine>\(XMLLines.escape(machine))</machine>") }
        for type in guest.domainTypes { out.line(3, "<domain type='\(XMLLines.escape(type))'/>") }
        out.line(2, "</arch>")
        if !guest.features.isEmpty {
            out.line(2, "<features>")
            for feature in guest.features {
                var attributes = ""
                if let on = feature.defaultOn { attributes += " default='\(on ? "on" : "off")'" }
                if let toggle = feature.toggle { attributes += " toggle='\(toggle ? "yes" : "no")'" }
                out.line(3, "<\(feature.name)\(attributes)/>")
            }
            out.line(2, "</features>")
        }
        out.line(1, "</guest>")
    }
}

/// An indented line buffer for hand-formatted XML documents.
struct XMLLines {
    private(set) var text = ""

    /// Appends `content` at `level` (two spaces per level) and a newline.
    mutating func line(_ level: Int, _ content: String) {
        text += String(repeating: "  ", count: level) + content + "\n"
    }

    /// Appends an empty line.
    mutating func blank() { text += "\n" }

    /// Escapes text and attribute values (`&`, `<`, `>`, `'`, `"`).
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
