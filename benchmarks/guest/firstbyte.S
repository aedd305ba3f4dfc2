/* The benchmark guest: PVH entry (Xen ELF note type 18, XEN_ELFNOTE_PHYS32_ENTRY), one byte to COM1, then halt
 * with interrupts off for good. It runs a handful of instructions, so the time to its first serial byte is the
 * hypervisor's start cost, not guest work (guest code runs ~1000x slower than native on these hosts). */
    .set COM1_THR, 0x3f8            /* 8250/16550 transmit holding register of COM1 */
    .set BENCH_BYTE, 0x21           /* '!' */

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start

    .section .text, "ax"
    .code32
    .globl _start
_start:
    cli
    movw $COM1_THR, %dx
    movb $BENCH_BYTE, %al
    outb %al, %dx
1:  hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
