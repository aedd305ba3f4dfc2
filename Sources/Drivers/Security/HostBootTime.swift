import VirtBase

/// The host's boot time (`btime` in `/proc/stat`), which tells remembered labels from before a reboot.
func hostBootTime() -> String {
    guard let text = (try? SmallFile.readText("/proc/stat")) ?? nil else { return "0" }
    for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
        return String(line.dropFirst("btime ".count))
    }
    return "0"
}
