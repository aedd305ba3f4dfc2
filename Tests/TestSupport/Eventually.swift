import Glibc

/// Polls `condition` every 10 ms until it holds or `seconds` have passed, and returns whether it held (checked
/// once more at the deadline). For tests that wait on another process: a guest's output, a daemon's exit.
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + seconds
    while true {
        if try condition() { return true }
        clock_gettime(CLOCK_MONOTONIC, &now)
        if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= deadline { return try condition() }
        usleep(10_000)
    }
}
