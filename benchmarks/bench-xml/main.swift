// bench-xml: domain XML throughput. Parses (libxml2 + model + defaults + semantic validation), optionally
// validates against our RelaxNG schema, and formats a typical 60-line domain N times on one thread, then
// prints documents per second.
//
//   bench-xml [--iterations N] [--schema]
import Foundation
import VirtCore

/// A typical definition: memory and vCPU tuning, a NUMA guest, two disks, a network, serial and console.
let document = """
    <domain type='kvm'>
      <name>bench</name>
      <uuid>6c1e9f43-2b4d-4f6e-9a39-3c6a2f1d9b70</uuid>
      <title>Benchmark guest</title>
      <memory unit='GiB'>4</memory>
      <currentMemory unit='GiB'>4</currentMemory>
      <memoryBacking>
        <hugepages>
          <page size='2' unit='M'/>
        </hugepages>
      </memoryBacking>
      <vcpu placement='static' cpuset='0-7'>4</vcpu>
      <cputune>
        <shares>1024</shares>
        <period>100000</period>
        <quota>-1</quota>
        <vcpupin vcpu='0' cpuset='2'/>
        <vcpupin vcpu='1' cpuset='3'/>
        <vcpupin vcpu='2' cpuset='4'/>
        <vcpupin vcpu='3' cpuset='5'/>
        <emulatorpin cpuset='0-1'/>
      </cputune>
      <numatune>
        <memory mode='strict' nodeset='0'/>
      </numatune>
      <os>
        <type arch='x86_64'>hvm</type>
        <kernel>/var/lib/swift-virt/boot/vmlinuz</kernel>
        <cmdline>console=ttyS0 root=/dev/vda1</cmdline>
      </os>
      <features><acpi/><apic/></features>
      <cpu mode='host-passthrough'>
        <topology sockets='1' dies='1' cores='2' threads='2'/>
        <numa>
          <cell id='0' cpus='0-1' memory='2' unit='GiB'/>
          <cell id='1' cpus='2-3' memory='2' unit='GiB'/>
        </numa>
      </cpu>
      <clock offset='utc'/>
      <on_poweroff>destroy</on_poweroff>
      <on_reboot>restart</on_reboot>
      <on_crash>destroy</on_crash>
      <devices>
        <emulator>/usr/bin/qemu-system-x86_64</emulator>
        <disk type='file' device='disk'>
          <driver name='qemu' type='raw' cache='none'/>
          <source file='/var/lib/swift-virt/images/bench.img'/>
          <target dev='vda' bus='virtio'/>
        </disk>
        <disk type='block' device='disk'>
          <source dev='/dev/vg0/bench-data'/>
          <target dev='vdb' bus='virtio'/>
        </disk>
        <interface type='network'>
          <mac address='52:54:00:12:34:56'/>
          <source network='default'/>
        </interface>
        <serial type='pty'><target port='0'/></serial>
        <console type='pty'><target type='serial' port='0'/></console>
      </devices>
    </domain>
    """

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`), in seconds.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

var iterations = 20_000
var schema = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--iterations":
        guard let text = arguments.next(), let value = Int(text), value > 0 else {
            FileHandle.standardError.write(Data("bench-xml: --iterations needs a positive number\n".utf8))
            exit(2)
        }
        iterations = value
    case "--schema":
        schema = true
    default:
        FileHandle.standardError.write(Data("usage: bench-xml [--iterations N] [--schema]\n".utf8))
        exit(2)
    }
}

var options = DomainXMLParseOptions()
options.validateSchema = schema
do {
    // Warm up: loads and compiles the schema once, as a long-lived process would.
    let first = try DomainXML.parse(document, options: options)
    var bytes = DomainXML.format(first.definition).utf8.count
    let clock = ContinuousClock()
    let cpuStart = threadCPUSeconds()
    let elapsed = try clock.measure {
        for _ in 0..<iterations {
            let parsed = try DomainXML.parse(document, options: options)
            bytes &+= DomainXML.format(parsed.definition).utf8.count
        }
    }
    let cpu = threadCPUSeconds() - cpuStart
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    // The first figure is per second of this thread's CPU time: one core's throughput, unaffected by other
    // processes competing for the CPU. Wall-clock throughput follows for comparison.
    print(
        String(
            format: "%.0f documents/s per CPU-second (wall clock: %.0f/s; %d iterations, %.3f s CPU, %.3f s wall, "
                + "schema validation %@, %d output bytes)", Double(iterations) / cpu, Double(iterations) / seconds,
            iterations, cpu, seconds, schema ? "on" : "off", bytes))
} catch {
    FileHandle.standardError.write(Data("bench-xml: \(error)\n".utf8))
    exit(1)
}
