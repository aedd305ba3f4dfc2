// virt-kvm: the per-domain process (supervisor + hypervisor). The logic lives in the other files.
import Glibc

exit(VirtKVM.main(Array(CommandLine.arguments.dropFirst())))
