/* irqecho: interrupt-driven serial echo. COM1's receive interrupt (IRQ 4) is routed through the IOAPIC to the
 * local APIC (Intel 82093AA datasheet; SDM vol. 3A ch. 10); the handler echoes until '~'. Proves that the
 * UART's interrupt line reaches a guest that waits in HLT.
 * The emulating KVM of the project's hosts cannot execute IRET in protected mode (emulation failure, QEMU
 * included), so the handler drops its frame and resumes the wait loop instead of returning with IRET. */
#include "guest.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_EOI 0xb0
#define LAPIC_SVR_ENABLE 0x100
#define SPURIOUS_VECTOR 0xff
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_WINDOW 0x10
#define IOAPIC_REDIRECTION(pin) (0x10 + 2 * (pin))
#define COM1_IRQ 4
#define SERIAL_VECTOR 0x30
#define UART_IER 1
#define UART_IER_RDI 0x01
#define UART_MCR 4
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define GATE_INTERRUPT_32 0x8e00
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA 0xa1
#define PIC_MASK_ALL 0xff

struct gate { u16 offset_low, selector, flags, offset_high; };
static struct gate idt[SERIAL_VECTOR + 1] __attribute__((aligned(8)));
volatile int done;
static volatile u32 interrupts;

void serial_interrupt(void) {
    interrupts++;
    while (inb(COM1 + UART_LSR) & UART_LSR_DR) {
        u8 c = inb(COM1);
        if (c == '~') done = 1;
        else putc_((char)c);
    }
    mmio_write32(LAPIC_BASE + LAPIC_EOI, 0);
}

extern void serial_entry(void);
extern void wait_for_done(void);
/* wait_for_done: hlt with interrupts on until `done`; serial_entry: the vector's handler, which discards the
 * 12-byte interrupt frame (EIP, CS, EFLAGS: same privilege) and re-enters the loop. */
__asm__(".text\n"
        "wait_for_done:\n"
        "wait_loop: cli\n cmpl $0, done\n jne wait_end\n sti\n hlt\n jmp wait_loop\n"
        "wait_end: ret\n"
        "serial_entry: pushal\n cld\n call serial_interrupt\n popal\n addl $12, %esp\n jmp wait_loop\n");

static void ioapic_write(u32 reg, u32 value) {
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, value);
}

void guest_main(const struct hvm_start_info *info) {
    (void)info;
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    u32 handler = (u32)serial_entry;
    idt[SERIAL_VECTOR] = (struct gate){(u16)handler, cs, GATE_INTERRUPT_32, (u16)(handler >> 16)};
    struct { u16 limit; u32 base; } __attribute__((packed)) idtr = {sizeof(idt) - 1, (u32)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    /* The legacy PIC reaches LINT0 as ExtINT once the local APIC is on; this guest uses the IOAPIC only. */
    outb(PIC_MASTER_DATA, PIC_MASK_ALL);
    outb(PIC_SLAVE_DATA, PIC_MASK_ALL);
    mmio_write32(LAPIC_BASE + LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
    ioapic_write(IOAPIC_REDIRECTION(COM1_IRQ) + 1, 0);  /* destination: APIC id 0 */
    ioapic_write(IOAPIC_REDIRECTION(COM1_IRQ), SERIAL_VECTOR);  /* fixed, physical, edge, high, unmasked */
    outb(COM1 + UART_MCR, UART_MCR_DTR_RTS_OUT2);
    outb(COM1 + UART_IER, UART_IER_RDI);
    puts_("irq echo ready\n");
    wait_for_done();
    puts_(interrupts ? "\nirq echo done\n" : "\nno interrupts\n");
    poweroff(0);
}
