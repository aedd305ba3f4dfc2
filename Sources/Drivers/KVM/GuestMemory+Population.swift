import CVirtShims
import Glibc
import Host
import VirtBase

/// Allocation up front: every page of a cell is faulted in before any vCPU runs, spread over several threads.
extension GuestMemory {
    /// At most this many threads fault a cell in when `<allocation threads>` does not say (QEMU's prealloc
    /// threads do the same work; zeroing the pages is what takes the time, and free CPUs can share it).
    static let maxPopulationThreads = 8

    /// How many threads fault in a cell of `pages` pages: `<allocation threads>`, else one per CPU the process
    /// may run on (the emulator set, which the threads inherit), at most `maxPopulationThreads`, at most one per
    /// page.
    static func populationThreads(pages: Int, asked: Int?) -> Int {
        let cpus = (try? ThreadAffinity.get().count) ?? 1
        return max(1, min(asked ?? min(cpus, maxPopulationThreads), pages))
    }

    /// Faults every page of the mapping in now, under its policy (`MADV_POPULATE_WRITE`), so a start that cannot
    /// get its pages fails here, before any vCPU runs, instead of a guest dying of SIGBUS later. The range is cut
    /// into one run of whole pages per thread.
    static func populate(
        _ address: UnsafeMutableRawPointer, length: Int, cell: MemoryCellConfiguration, object: String
    ) throws {
        let page = Int(cell.pageBytes)
        let pages = length / page
        let threads = populationThreads(pages: pages, asked: cell.backing.allocationThreads)
        let perThread = (pages + threads - 1) / threads
        let failures = Monitor()
        var firstError: Int32 = 0
        let work: (Int) -> Void = { index in
            let start = index * perThread * page
            let count = min(perThread * page, length - start)
            guard count > 0 else { return }
            var result: Int32
            repeat {
                result = madvise(address + start, count, CVIRT_MADV_POPULATE_WRITE)
            } while result != 0 && errno == EINTR
            if result != 0 {
                let code = errno
                failures.locked { if firstError == 0 { firstError = code } }
            }
        }
        var helpers: [OSThread] = []
        for index in 1..<threads {
            do {
                helpers.append(try OSThread(name: "prealloc\(index)") { work(index) })
            } catch {
                work(index)  // no thread to be had: this one does that part too
            }
        }
        work(0)
        for helper in helpers { helper.join() }
        let code = failures.locked { firstError }
        guard code != 0 else { return }
        let remedy = cell.backing.source == .hugetlb ? hugePageRemedy(cell) : "free memory on the host"
        throw SystemCall.error("allocating (MADV_POPULATE_WRITE)", object, errno: code, remedy: remedy)
    }
}
