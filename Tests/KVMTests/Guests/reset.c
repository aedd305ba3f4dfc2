/* reset: asks the i8042 for a CPU reset (command 0xFE), or with mode=triple causes a triple fault. */
#include "guest.h"

void guest_main(const struct hvm_start_info *info) {
    const char *mode = param(info, "mode");
    if (mode && mode[0] == 't') {
        puts_("triple fault\n");
        static const u16 empty_idt[3] = {0, 0, 0};
        __asm__ volatile("lidt (%0); int3" : : "r"(empty_idt));
    }
    puts_("resetting\n");
    outb(I8042_STATUS, I8042_RESET);
    for (;;) __asm__ volatile("hlt");
}
