// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * /init of the initramfs scripts/linux-test-modules (riscv64) and
 * scripts/linux-ptdump-init (arm64) build, for four tests.
 *
 * By default (tests/integration/linux_insmod.rs) it loads each file of
 * /modules with finit_module(2) and prints one line per module,
 *
 *     layoutgen-insmod: NAME.ko: loaded
 *     layoutgen-insmod: NAME.ko: refused, errno N
 *
 * then "layoutgen-insmod: done".
 *
 * With the word `ptdump` on the kernel command line (the kernel passes
 * words it does not know to init as arguments), it instead mounts debugfs at
 * /sys/kernel/debug and prints kernel_page_tables (Linux's ptdump) between
 * "layoutgen-ptdump: begin" and "layoutgen-ptdump: end" lines
 * (tests/integration/page_tables.rs, linux_ptdump_arm64.rs).
 *
 * With the word `marker` it only prints "layoutgen-initrd: init reached":
 * the initrd tests/integration/uboot_chain.rs boots through OpenSBI and
 * U-Boot, to show Linux reached the init it was given.
 *
 * Then it powers off. No libc: raw Linux system calls (riscv64 or arm64),
 * built with the kernel's cross gcc -static -nostdlib. Nothing sets gp, so it is linked
 * with --no-relax (no gp-relative accesses).
 */

#define SYS_getdents64 61
#define SYS_openat 56
#define SYS_read 63
#define SYS_write 64
#define SYS_mount 40
#define SYS_reboot 142
#define SYS_finit_module 273
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000

/*
 * The system call numbers are asm-generic's on both architectures; only
 * the trap and its registers differ.
 */
#if defined(__aarch64__)
#define REG(arm64, riscv) arm64
#define TRAP "svc #0"
#elif defined(__riscv) && __riscv_xlen == 64
#define REG(arm64, riscv) riscv
#define TRAP "ecall"
#else
#error "init.c: arm64 or riscv64 only"
#endif

static long syscall5(long n, long a, long b, long c, long d, long e)
{
	register long r0 __asm__(REG("x0", "a0")) = a;
	register long r1 __asm__(REG("x1", "a1")) = b;
	register long r2 __asm__(REG("x2", "a2")) = c;
	register long r3 __asm__(REG("x3", "a3")) = d;
	register long r4 __asm__(REG("x4", "a4")) = e;
	register long nr __asm__(REG("x8", "a7")) = n;
	__asm__ volatile(TRAP
			 : "+r"(r0)
			 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(nr)
			 : "memory");
	return r0;
}

static long syscall4(long n, long a, long b, long c, long d)
{
	return syscall5(n, a, b, c, d, 0);
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

/* The page tables as debugfs shows them, copied to the console whole. */
static void ptdump(void)
{
	static char buf[4096];
	static const char file[] = "/sys/kernel/debug/kernel_page_tables";
	long r = syscall5(SYS_mount, (long)"debugfs", (long)"/sys/kernel/debug",
			  (long)"debugfs", 0, 0);
	long fd = r < 0 ? r : syscall4(SYS_openat, AT_FDCWD, (long)file, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		add(r < 0 ? "layoutgen-ptdump: cannot mount debugfs for " : "layoutgen-ptdump: cannot open ");
		add(file);
		add(", errno ");
		add_number(-fd);
		add("\n");
		flush();
		return;
	}
	add("layoutgen-ptdump: begin\n");
	flush();
	long n;
	while ((n = syscall4(SYS_read, fd, (long)buf, sizeof(buf), 0)) > 0)
		syscall4(SYS_write, 1, (long)buf, n, 0);
	add("layoutgen-ptdump: end\n");
	flush();
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void insmod_all(void)
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
}

/* The stack the kernel starts init with: argc, then argv[]. */
void start(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	int want_ptdump = 0, want_marker = 0;
	for (long i = 1; i < argc; i++) {
		want_ptdump |= streq(argv[i], "ptdump");
		want_marker |= streq(argv[i], "marker");
	}
	if (want_marker) {
		add("layoutgen-initrd: init reached\n");
		flush();
	} else if (want_ptdump) {
		ptdump();
	} else {
		insmod_all();
	}
	/* LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF */
	syscall4(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
	for (;;)
		;
}

#if defined(__aarch64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov x0, sp\n"
	"	bl start\n");
#else
__asm__(".globl _start\n"
	"_start:\n"
	"	mv a0, sp\n"
	"	call start\n");
#endif
