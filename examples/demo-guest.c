/* The demo guest of `make demo`: a freestanding program booted through the PVH entry. It greets, shows what
 * the hypervisor handed it (command line, memory map), then keeps a heartbeat on the serial console, echoes
 * what is typed at `virtsh console`, and powers off when `virtsh shutdown` presses Ctrl+Alt+Del.
 * Built by examples/demo.sh with the guest helpers of the hypervisor tests (Tests/KVMTests/Guests). */
#include "guest.h"

#define SCANCODE_CTRL_SET1 0x1d
#define SCANCODE_CTRL_SET2 0x14

static void print_memory_map(const struct hvm_start_info *info) {
    const struct hvm_memmap_entry *map = (const struct hvm_memmap_entry *)(unsigned long)info->memmap_paddr;
    u64 usable = 0;
    for (u32 i = 0; map && i < info->memmap_entries; i++) {
        if (map[i].type == 1) usable += map[i].size;
    }
    puts_("memory map: ");
    putu(info->memmap_entries);
    puts_(" entries, ");
    putu((u32)(usable >> 20));
    puts_(" MiB usable\n");
}

void guest_main(const struct hvm_start_info *info) {
    puts_("\nHello from a swift-virt guest!\n");
    puts_("booted through the PVH entry on the embedded KVM hypervisor\n");
    const char *cmdline = (const char *)(unsigned long)info->cmdline_paddr;
    puts_("command line: ");
    puts_(cmdline ? cmdline : "(none)");
    putc_('\n');
    print_memory_map(info);
    puts_("type at 'virtsh console demo' to see it echoed; 'virtsh shutdown demo' powers me off\n");
    const char *p = param(info, "beat");
    u32 beat = p ? parse_u32(p, 0) : 3000;
    u32 counter = 0;
    for (u32 n = 1;; n++) {
        if (++counter >= beat) {
            counter = 0;
            puts_("heartbeat ");
            putu(n / beat + 1);
            putc_('\n');
        }
        if (inb(COM1 + UART_LSR) & UART_LSR_DR) {
            char c = (char)inb(COM1);
            puts_("you typed: ");
            putc_(c == '\r' ? '\n' : c);
            if (c != '\r') putc_('\n');
        }
        if (inb(I8042_STATUS) & I8042_OBF) {
            u8 code = inb(I8042_DATA);
            if (code == SCANCODE_CTRL_SET1 || code == SCANCODE_CTRL_SET2) {
                puts_("Ctrl+Alt+Del: powering off. Goodbye.\n");
                poweroff(0);
            }
        }
    }
}
