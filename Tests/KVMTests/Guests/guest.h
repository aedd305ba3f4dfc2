/* Shared helpers for the freestanding test guests: port I/O, a polling 16550 driver, the PVH start info and
 * command line, and power-off through the isa-debug-exit port. Kept tiny: guest code runs emulated here. */
#ifndef GUEST_H
#define GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define COM1 0x3f8
#define UART_LSR 5
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define DEBUG_EXIT_PORT 0x501
#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_OBF 0x01
#define I8042_RESET 0xfe

struct hvm_start_info {
    u32 magic, version, flags, nr_modules;
    u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    u32 memmap_entries, reserved;
};
struct hvm_memmap_entry { u64 addr, size; u32 type, reserved; };
#define HVM_START_MAGIC 0x336ec578

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void mmio_write32(u32 addr, u32 v) { *(volatile u32 *)(unsigned long)addr = v; }
static inline u32 mmio_read32(u32 addr) { return *(volatile u32 *)(unsigned long)addr; }

static inline __attribute__((unused)) void putc_(char c) {
    while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE)) {}
    outb(COM1, (u8)c);
}
static inline __attribute__((unused)) void puts_(const char *s) { while (*s) putc_(*s++); }
static inline __attribute__((unused)) void putu(u32 v) {
    char buf[11]; int i = 10; buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_(buf + i);
}
static inline __attribute__((unused)) int getc_(void) {
    while (!(inb(COM1 + UART_LSR) & UART_LSR_DR)) {}
    return inb(COM1);
}
static inline __attribute__((unused)) void poweroff(u8 code) {
    outb(DEBUG_EXIT_PORT, code);
    for (;;) __asm__ volatile("hlt");
}

/* Finds "key=" in the command line; returns the value's start or 0. */
static inline __attribute__((unused)) const char *param(const struct hvm_start_info *info, const char *key) {
    const char *s = (const char *)(unsigned long)info->cmdline_paddr;
    if (!s) return 0;
    while (*s) {
        const char *k = key, *p = s;
        while (*k && *p == *k) { k++; p++; }
        if (!*k && *p == '=') return p + 1;
        while (*s && *s != ' ') s++;
        while (*s == ' ') s++;
    }
    return 0;
}
static inline __attribute__((unused)) u32 parse_u32(const char *s, const char **end) {
    u32 v = 0, base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; }
    for (;; s++) {
        u32 d;
        if (*s >= '0' && *s <= '9') d = (u32)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = (u32)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = (u32)(*s - 'A' + 10);
        else break;
        v = v * base + d;
    }
    if (end) *end = s;
    return v;
}
#endif
