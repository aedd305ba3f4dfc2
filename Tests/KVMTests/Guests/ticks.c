/* ticks: prints "tick N" with a busy delay between, forever or up to ticks=N; Ctrl (a keyboard scancode from
 * the host's power button) ends it with code 2. */
#include "guest.h"

#define SCANCODE_CTRL_SET1 0x1d
#define SCANCODE_CTRL_SET2 0x14

void guest_main(const struct hvm_start_info *info) {
    const char *p = param(info, "ticks");
    u32 limit = p ? parse_u32(p, 0) : 0;
    p = param(info, "delay");
    u32 delay = p ? parse_u32(p, 0) : 20000;
    for (u32 i = 1; limit == 0 || i <= limit; i++) {
        puts_("tick ");
        putu(i);
        putc_('\n');
        for (volatile u32 d = 0; d < delay; d++) {}
        if (inb(I8042_STATUS) & I8042_OBF) {
            u8 code = inb(I8042_DATA);
            if (code == SCANCODE_CTRL_SET1 || code == SCANCODE_CTRL_SET2) {
                puts_("ctrl-alt-del\n");
                poweroff(2);
            }
        }
    }
    puts_("done\n");
    poweroff(0);
}
