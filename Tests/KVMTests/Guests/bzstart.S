/* Entry of the bzImage test guest. The Linux 64-bit boot protocol enters at the load address + 0x200 in long
 * mode with %rsi = boot_params (Documentation/arch/x86/boot.rst); the first 0x200 bytes stand in for the
 * 32-bit entry, which this guest does not support. */
    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    .fill 0x200, 1, 0xf4        /* hlt: nobody may enter through the 32-bit entry */
start64:
    cli
    movq $stack_top, %rsp
    movq %rsi, %rdi
    call guest_main
1:
    hlt
    jmp 1b

    .section .bss
    .balign 16
stack:
    .space 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
