// virtsh: the swift-virt shell. Everything happens in VirtshMain; this file only hands over the arguments.
import Glibc

exit(VirtshMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
