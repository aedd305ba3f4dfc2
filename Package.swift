// swift-tools-version: 6.2
// swift-virt: a libvirt-style virtualization manager with an embedded KVM hypervisor, in Swift.
// Layout and dependency rules: docs/architecture.md. Dependencies point downwards only.
import PackageDescription

/// Every Swift target: Swift 6 language mode (package-wide) and warnings as errors.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]
/// C code in the shims is held to the same standard.
let strictC: [CSetting] = [.define("_GNU_SOURCE"), .unsafeFlags(["-Wall", "-Werror"])]
/// Release executables that are exec'd on the start path: the C libraries come from their archives (StaticLink
/// holds one linker script per library, named like its shared object, found before it), libgcc's unwinder is
/// linked in, and lld packs the relative relocations (DT_RELR, glibc >= 2.36). Only libc and libm are then loaded
/// at exec. The program's own symbols are not exported: nothing looks them up (--export-dynamic comes from
/// -static-stdlib). docs/performance.md has the figures, docs/security.md the cost (updates need a rebuild).
let fastExec: LinkerSetting = .unsafeFlags([
    "-L", Context.packageDirectory + "/StaticLink", "-use-ld=lld", "-Xclang-linker", "-static-libgcc",
    "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
], .when(configuration: .release))

let package = Package(
    name: "swift-virt",
    targets: [
        // C: system libraries (Debian -dev packages) and our own shim.
        .systemLibrary(name: "CLibXML2", pkgConfig: Context.packageDirectory + "/StaticLink/libxml-2.0.pc",
                       providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CEdit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CSELinux", pkgConfig: "libselinux", providers: [.apt(["libselinux1-dev"])]),
        .target(name: "CVirtShims", cSettings: strictC),

        // The shared vocabulary: errors, cpusets, frames, .conf files. Standard library, FoundationEssentials (JSON) and the C shim only.
        .target(name: "VirtBase", dependencies: ["CVirtShims"], swiftSettings: strict),

        // The management API: domain model, XML, validation, store, Connection/Driver.
        .target(
            name: "VirtCore",
            dependencies: ["VirtBase", "CLibXML2", "CSQLite", "CVirtShims"],
            swiftSettings: strict),

        // Mechanism modules: plain values in, no VirtCore, no libxml2, no full Foundation.
        // KVM's process-layer types (Sources/Drivers/KVM/Process) carry Security's plan to the supervisor.
        .target(name: "KVM", dependencies: ["VirtBase", "CVirtShims", "Host", "Security"], path: "Sources/Drivers/KVM",
                swiftSettings: strict),
        .target(name: "Host", dependencies: ["VirtBase", "CVirtShims"], path: "Sources/Drivers/Host",
                swiftSettings: strict),
        .target(name: "Security", dependencies: ["VirtBase", "CVirtShims", "CSELinux"],
                path: "Sources/Drivers/Security", swiftSettings: strict),
        .target(name: "Locking", dependencies: ["VirtBase", "CVirtShims"], path: "Sources/Drivers/Locking",
                swiftSettings: strict),

        // Drivers.
        .target(name: "TestDriver", dependencies: ["VirtCore"], path: "Sources/Drivers/Test",
                swiftSettings: strict),
        .target(name: "KVMDriver", dependencies: ["VirtCore", "KVM", "Host", "Locking", "Security", "CVirtShims"],
                path: "Sources/Drivers/KVMDriver", swiftSettings: strict),

        // Executables (thin mains).
        .executableTarget(name: "virtsh", dependencies: ["VirtCore", "TestDriver", "KVMDriver", "CEdit", "CVirtShims"],
                          swiftSettings: strict,
                          // Release builds link the standard library and Foundation in: virtsh then starts in about
                          // half the time, most of it otherwise spent loading and relocating the Swift runtime
                          // (docs/performance.md). The libraries -static-stdlib leaves out are named here.
                          linkerSettings: [
                            .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
                            .linkedLibrary("CoreFoundation", .when(configuration: .release)),
                            .linkedLibrary("_FoundationICU", .when(configuration: .release)),
                            .linkedLibrary("_FoundationCollections", .when(configuration: .release)),
                            .linkedLibrary("_FoundationCShims", .when(configuration: .release)),
                            fastExec,
                          ]),
        // virt-kvm is exec'd twice per guest start: the standard library linked in saves the dynamic loading of
        // the Swift runtime each time (docs/performance.md).
        .executableTarget(name: "virt-kvm", dependencies: ["KVM", "Host", "Locking", "Security", "VirtBase", "CVirtShims"], swiftSettings: strict,
                          linkerSettings: [
                            .unsafeFlags(["-static-stdlib"]),
                            // FoundationEssentials.a needs these two, which -static-stdlib does not name.
                            .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"),
                            fastExec,
                          ]),
        .executableTarget(name: "virtlockd", dependencies: ["Locking", "VirtBase", "CVirtShims"], swiftSettings: strict),
        // Test support and measures.
        .executableTarget(name: "virt-seccomp-probe", dependencies: ["Security"], path: "Tests/SeccompProbe",
                          swiftSettings: strict),
        .executableTarget(name: "security-bench", dependencies: ["Security"], path: "benchmarks/security",
                          swiftSettings: strict),

        // Test support and benchmarks.
        .executableTarget(name: "virt-store-stress", dependencies: ["VirtCore"], path: "Tests/StoreStress",
                          swiftSettings: strict),
        .executableTarget(name: "bench-store", dependencies: ["VirtCore"], path: "benchmarks/bench-store",
                          swiftSettings: strict),
        .executableTarget(name: "bench-xml", dependencies: ["VirtCore"], path: "benchmarks/bench-xml",
                          swiftSettings: strict),
        .executableTarget(name: "bench-lock", dependencies: ["Locking", "VirtBase"], path: "benchmarks/bench-lock",
                          swiftSettings: strict),
        .executableTarget(name: "bench-vm", dependencies: ["KVM"], path: "benchmarks/bench-vm", swiftSettings: strict),

        // Tests: one target per module.
        // What several test targets share: the freestanding guests' build, the huge page pool lease.
        .target(name: "VirtTestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "VirtBaseTests", dependencies: ["VirtBase"], swiftSettings: strict),
        .testTarget(name: "VirtCoreTests", dependencies: ["VirtCore"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "TestDriverTests", dependencies: ["TestDriver", "VirtCore"], swiftSettings: strict),
        .testTarget(name: "KVMDriverTests", dependencies: ["KVMDriver", "VirtCore", "Locking", "Security", "VirtTestSupport"], swiftSettings: strict),
        .testTarget(name: "KVMTests", dependencies: ["KVM", "VirtTestSupport"], exclude: ["Guests"], swiftSettings: strict),
        .testTarget(name: "LockingTests", dependencies: ["Locking", "VirtBase", "virtlockd", "VirtTestSupport"], swiftSettings: strict),
        .testTarget(name: "HostTests", dependencies: ["Host", "VirtTestSupport"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "SecurityTests", dependencies: ["Security", "virt-seccomp-probe"], swiftSettings: strict),
        .testTarget(name: "virtshTests", dependencies: ["VirtCore", "virtsh", "VirtTestSupport"], exclude: ["Snapshots"], swiftSettings: strict),
    ]
)
