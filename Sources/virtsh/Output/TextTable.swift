/// virsh's table layout (`vshTable`): every cell is a blank then its text; columns are padded to the widest
/// cell plus two blanks; the last column is not padded; a dashed line as wide as every column plus three
/// separates the header. Quiet mode drops the header and its line, and they no longer count for the widths.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table's text, each line ending in a newline.
    func render(quiet: Bool) -> String {
        let shown = (quiet ? [] : [header]) + rows
        let escapedRows = shown.map { $0.map(Self.escape) }
        var widths = Array(repeating: 0, count: header.count)
        for row in escapedRows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], Self.displayWidth(cell))
            }
        }
        var out = ""
        for (rowIndex, row) in escapedRows.enumerated() {
            for (column, cell) in row.enumerated() {
                out += " " + cell
                if column < row.count - 1 {
                    out += String(repeating: " ", count: widths[column] - Self.displayWidth(cell) + 2)
                }
            }
            out += "\n"
            if rowIndex == 0 && !quiet {
                out += String(repeating: "-", count: widths.reduce(0) { $0 + $1 + 3 }) + "\n"
            }
        }
        return out
    }

    /// Columns a terminal uses for `text` (wide characters count two).
    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + width(of: $1) }
    }

    /// Zero for combining marks and zero-width characters, two for East Asian wide and emoji blocks, else one.
    static func width(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if (0x300...0x36F).contains(value) || (0x200B...0x200F).contains(value) || value == 0xFEFF { return 0 }
        for range in wideRanges where range.contains(value) { return 2 }
        return 1
    }

    /// Unicode East Asian Wide / Fullwidth blocks (UAX #11) and the emoji planes terminals draw double-width.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
        0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// Non-printable characters shown as `\xNN`, as virsh does.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
