// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * /init of the initramfs tests/integration/boot_chain.rs boots through
 * OpenSBI and U-Boot: proof that the kernel found the initrd where the
 * boot script put it and ran it. Prints one line,
 *
 *     layoutgen-initrd: init reached
 *
 * and powers off (so QEMU exits). No libc: raw riscv64 Linux system calls,
 * built with riscv64-linux-gnu-gcc -static -nostdlib by
 * scripts/linux-test-modules, like insmod-init.c.
 */

#define SYS_write 64
#define SYS_reboot 142

static long syscall4(long n, long a, long b, long c, long d)
{
	register long a0 __asm__("a0") = a;
	register long a1 __asm__("a1") = b;
	register long a2 __asm__("a2") = c;
	register long a3 __asm__("a3") = d;
	register long a7 __asm__("a7") = n;
	__asm__ volatile("ecall"
			 : "+r"(a0)
			 : "r"(a1), "r"(a2), "r"(a3), "r"(a7)
			 : "memory");
	return a0;
}

void _start(void)
{
	static const char line[] = "layoutgen-initrd: init reached\n";
	syscall4(SYS_write, 1, (long)line, sizeof(line) - 1, 0);
	/* LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF */
	syscall4(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
	for (;;)
		;
}
