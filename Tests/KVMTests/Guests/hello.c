/* hello: checks its PVH hand-over, prints a greeting from the command line, powers off with code 0. */
#include "guest.h"

#define POST_CODE_PORT 0x80
#define UNCLAIMED_MMIO 0xd0f00000u

void guest_main(const struct hvm_start_info *info) {
    puts_("hello from a PVH guest\n");
    /* A POST code and a read of unclaimed MMIO: both hypervisors must ignore them (ours counts them). */
    outb(POST_CODE_PORT, 0x42);
    (void)mmio_read32(UNCLAIMED_MMIO);
    puts_(info->magic == HVM_START_MAGIC ? "start info: ok\n" : "start info: BAD MAGIC\n");
    const struct hvm_memmap_entry *map = (const struct hvm_memmap_entry *)(u32)info->memmap_paddr;
    int ram_at_1m = 0;
    for (u32 i = 0; info->version >= 1 && i < info->memmap_entries; i++)
        if (map[i].type == 1 && map[i].addr <= 0x100000 && map[i].addr + map[i].size > 0x200000) ram_at_1m = 1;
    puts_(ram_at_1m ? "memory map: ram at 1M\n" : "memory map: MISSING\n");
    const char *greeting = param(info, "greeting");
    puts_("greeting: ");
    while (greeting && *greeting && *greeting != ' ') putc_(*greeting++);
    if (param(info, "showcpu")) {
        u32 eax = 1, ebx, ecx, edx;
        __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
        puts_("\ncx16=");
        putu((ecx >> 13) & 1);
        puts_(" hypervisor=");
        putu(ecx >> 31);
        puts_(" apic-id=");
        putu(ebx >> 24);
    }
    puts_("\nbye\n");
    poweroff(0);
}
