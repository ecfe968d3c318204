// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * /init of the initramfs that prints a booted kernel's page tables: mounts
 * debugfs on /sys/kernel/debug, copies /sys/kernel/debug/kernel_page_tables
 * (CONFIG_PTDUMP_DEBUGFS) to the console between the lines
 *
 *     layoutgen-ptdump: begin
 *     layoutgen-ptdump: end
 *
 * (or "layoutgen-ptdump: error: WHAT, errno N") and powers off. What
 * tests/integration/linux_ptdump_arm64.rs hands to `layoutgen lint
 * --page-tables`. No libc: raw Linux system calls, whose numbers are the
 * asm-generic ones on both arm64 and riscv64; built with the kernel's
 * cross gcc -static -nostdlib by scripts/linux-ptdump-init.
 */

#define SYS_mount 40
#define SYS_openat 56
#define SYS_read 63
#define SYS_write 64
#define SYS_reboot 142
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define LINUX_REBOOT_MAGIC1 0xfee1dead
#define LINUX_REBOOT_MAGIC2 672274793
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

static long syscall5(long n, long a, long b, long c, long d, long e)
{
#if defined(__aarch64__)
	register long r0 __asm__("x0") = a;
	register long r1 __asm__("x1") = b;
	register long r2 __asm__("x2") = c;
	register long r3 __asm__("x3") = d;
	register long r4 __asm__("x4") = e;
	register long nr __asm__("x8") = n;
	__asm__ volatile("svc #0"
			 : "+r"(r0)
			 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(nr)
			 : "memory");
#elif defined(__riscv) && __riscv_xlen == 64
	register long r0 __asm__("a0") = a;
	register long r1 __asm__("a1") = b;
	register long r2 __asm__("a2") = c;
	register long r3 __asm__("a3") = d;
	register long r4 __asm__("a4") = e;
	register long nr __asm__("a7") = n;
	__asm__ volatile("ecall"
			 : "+r"(r0)
			 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(nr)
			 : "memory");
#else
#error "ptdump-init: arm64 or riscv64 only"
#endif
	return r0;
}

static unsigned long length(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	syscall5(SYS_write, 1, (long)s, (long)length(s), 0, 0);
}

static void put_number(long v)
{
	char buf[24];
	int i = sizeof(buf) - 1;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	put(&buf[i]);
}

static void power_off(void)
{
	syscall5(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		 LINUX_REBOOT_CMD_POWER_OFF, 0, 0);
	for (;;)
		;
}

/* A failed call is reported, then the machine powers off all the same:
 * a test sees the message instead of waiting for its timeout. */
static void check(long r, const char *what)
{
	if (r >= 0)
		return;
	put("layoutgen-ptdump: error: ");
	put(what);
	put(", errno ");
	put_number(-r);
	put("\n");
	power_off();
}

static char buf[4096];

void _start(void)
{
	static const char dump[] = "/sys/kernel/debug/kernel_page_tables";
	check(syscall5(SYS_mount, (long)"debugfs", (long)"/sys/kernel/debug",
		       (long)"debugfs", 0, 0),
	      "mount debugfs on /sys/kernel/debug");
	long fd = syscall5(SYS_openat, AT_FDCWD, (long)dump, O_RDONLY, 0, 0);
	check(fd, "open /sys/kernel/debug/kernel_page_tables");
	put("layoutgen-ptdump: begin\n");
	for (;;) {
		long n = syscall5(SYS_read, fd, (long)buf, sizeof(buf), 0, 0);
		check(n, "read /sys/kernel/debug/kernel_page_tables");
		if (n == 0)
			break;
		syscall5(SYS_write, 1, (long)buf, n, 0, 0);
	}
	put("layoutgen-ptdump: end\n");
	power_off();
}
