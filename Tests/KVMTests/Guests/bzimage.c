/* bzimage: runs through the Linux 64-bit boot protocol; reports what the zero page holds and powers off. */
#include "guest.h"

#define BP_E820_ENTRIES 0x1e8
#define BP_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0

void guest_main(const u8 *boot_params) {
    puts_("hello from a bzImage guest in long mode\n");
    u32 entries = boot_params[BP_E820_ENTRIES];
    u32 ram_at_1m = 0;
    for (u32 i = 0; i < entries; i++) {
        const u8 *e = boot_params + BP_E820_TABLE + 20 * i;
        u64 addr = *(const u64 *)e, size = *(const u64 *)(e + 8);
        u32 type = *(const u32 *)(e + 16);
        if (type == 1 && addr <= 0x100000 && addr + size > 0x200000) ram_at_1m = 1;
    }
    puts_(ram_at_1m ? "e820: ram at 1M\n" : "e820: MISSING\n");
    const char *cmdline = (const char *)(unsigned long)*(const u32 *)(boot_params + BP_CMD_LINE_PTR);
    puts_("cmdline: ");
    puts_(cmdline);
    puts_("\nbye\n");
    poweroff(0);
}
