/* echo: echoes serial input until '~', then powers off with code 0. */
#include "guest.h"

void guest_main(const struct hvm_start_info *info) {
    (void)info;
    puts_("echo ready\n");
    for (;;) {
        int c = getc_();
        if (c == '~') break;
        putc_((char)c);
    }
    puts_("\necho done\n");
    poweroff(0);
}
