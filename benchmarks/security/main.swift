// security-bench: what sVirt labelling adds to a start. Labels four disks (SELinux image label + DAC owner, with
// the originals remembered in trusted.swift-virt.* attributes), then restores them, many times over, and prints
// the median and 95th percentile per start and per stop. Run as root:
//   swift build -c release --product security-bench && .build/release/security-bench [iterations] [directory]
import Glibc
import Security

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

let arguments = CommandLine.arguments
let iterations = arguments.count > 1 ? Int(arguments[1]) ?? 500 : 500
var template = Array(((arguments.count > 2 ? arguments[2] : "/tmp") + "/security-bench-XXXXXX").utf8CString)
guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
    print("error: cannot create a temporary directory")
    exit(1)
}
let directory = String(cString: created)
defer { _ = rmdir(directory) }

var disks: [DiskLabelSpec] = []
for index in 0..<4 {
    let path = "\(directory)/disk\(index).img"
    let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
        print("error: cannot create \(path)")
        exit(1)
    }
    close(fd)
    disks.append(DiskLabelSpec(path: path, readonly: index == 3))
}
defer { for disk in disks { unlink(disk.path) } }

do {
    var settings = SecuritySettings(defaultUser: "+107", defaultGroup: "+107")
    settings.driver = "selinux"  // label files even though this host has SELinux disabled
    let manager = try SecurityManager(settings: settings)
    let request = SecurityLabelRequest(domainName: "bench", disks: disks)
    var generate: [Double] = []
    var label: [Double] = []
    var restore: [Double] = []
    var reserved = Set<MCSCategoryPair>()
    for _ in 0..<iterations {
        let t0 = now()
        let labels = try manager.generate(for: request, excluding: reserved)
        try manager.reserve(labels, in: &reserved)
        let t1 = now()
        try manager.labelFiles(for: request, labels: labels)
        let t2 = now()
        let problems = manager.restoreFiles(for: request, labels: labels)
        manager.release(labels, from: &reserved)
        let t3 = now()
        guard problems.isEmpty else {
            print("error: \(problems)")
            exit(1)
        }
        generate.append(t1 - t0)
        label.append(t2 - t1)
        restore.append(t3 - t2)
    }
    func line(_ name: String, _ values: [Double]) -> String {
        let median = (percentile(values, 0.5) * 1000).rounded() / 1000
        let p95 = (percentile(values, 0.95) * 1000).rounded() / 1000
        return "\(name): median \(median) ms, p95 \(p95) ms"
    }
    print("4 disks (3 writable, 1 read-only), SELinux + DAC, remember_owner = 1, \(iterations) iterations")
    print(line("generate+reserve", generate))
    print(line("label (start)", label))
    print(line("restore (stop)", restore))
} catch {
    print("error: \(error)")
    exit(1)
}
