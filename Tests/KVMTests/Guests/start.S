/* Entry of every test guest: a Xen PVH note naming the 32-bit entry, a stack, then guest_main(start_info).
 * PVH hands over in 32-bit protected mode with paging off and %ebx = hvm_start_info (Xen start_info.h). */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* name size: "Xen\0" */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start

    .section .text.start, "ax"
    .code32
    .globl _start
_start:
    cli
    movl $stack_top, %esp
    pushl %ebx
    call guest_main
halt:
    hlt
    jmp halt

    .section .bss
    .balign 16
stack:
    .space 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
