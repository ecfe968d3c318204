// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * /init of the initramfs tests/integration/linux_insmod.rs boots: loads each
 * file of /modules with finit_module(2) and prints one line per module,
 *
 *     layoutgen-insmod: NAME.ko: loaded
 *     layoutgen-insmod: NAME.ko: refused, errno N
 *
 * then "layoutgen-insmod: done" and powers off. No libc: raw riscv64 Linux
 * system calls, built with riscv64-linux-gnu-gcc -static -nostdlib by
 * scripts/linux-test-modules. Nothing sets gp, so it is linked with
 * --no-relax (no gp-relative accesses).
 */

#define SYS_getdents64 61
#define SYS_openat 56
#define SYS_write 64
#define SYS_reboot 142
#define SYS_finit_module 273
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000

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

static unsigned long length(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

/* One console line, built whole and written with one write(2), so that
 * the loader's own messages never land inside it. */
static char line[512];
static unsigned long line_len;

static void add(const char *s)
{
	while (*s && line_len < sizeof(line) - 1)
		line[line_len++] = *s++;
}

static void add_number(long v)
{
	char buf[24];
	int i = sizeof(buf) - 1;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	add(&buf[i]);
}

static void flush(void)
{
	syscall4(SYS_write, 1, (long)line, (long)line_len, 0);
	line_len = 0;
}

static int ends_with_ko(const char *s)
{
	unsigned long n = length(s);
	return n > 3 && s[n - 3] == '.' && s[n - 2] == 'k' && s[n - 1] == 'o';
}

static void load(const char *name)
{
	static const char dir[] = "/modules/";
	static char path[256];
	unsigned long at = 0, i;
	for (i = 0; dir[i]; i++)
		path[at++] = dir[i];
	for (i = 0; name[i] && at < sizeof(path) - 1; i++)
		path[at++] = name[i];
	path[at] = 0;

	long fd = syscall4(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0);
	long r = fd < 0 ? fd : syscall4(SYS_finit_module, fd, (long)"", 0, 0);
	add("layoutgen-insmod: ");
	add(name);
	if (fd < 0)
		add(": cannot open, errno ");
	else if (r == 0)
		add(": loaded");
	else
		add(": refused, errno ");
	if (r < 0)
		add_number(-r);
	add("\n");
	flush();
}

struct dirent64 {
	unsigned long d_ino;
	long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

void _start(void)
{
	static char buf[4096] __attribute__((aligned(8)));
	long dir = syscall4(SYS_openat, AT_FDCWD, (long)"/modules",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0) {
		add("layoutgen-insmod: cannot open /modules, errno ");
		add_number(-dir);
		add("\n");
		flush();
	} else {
		long n;
		while ((n = syscall4(SYS_getdents64, dir, (long)buf, sizeof(buf), 0)) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(buf + off);
				if (ends_with_ko(d->d_name))
					load(d->d_name);
				off += d->d_reclen;
			}
		}
	}
	add("layoutgen-insmod: done\n");
	flush();
	/* LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF */
	syscall4(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
	for (;;)
		;
}
