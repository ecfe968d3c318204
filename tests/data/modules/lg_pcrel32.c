// SPDX-License-Identifier: GPL-2.0
/*
 * A 32-bit PC-relative word in a data section, the `.4byte sym - .` of
 * exception and jump tables, as R_RISCV_32_PCREL (type 57): word = S + A - P.
 * The riscv loader applies it since "riscv: Add remaining module
 * relocations" (6.12 has apply_r_riscv_32_pcrel_rela); an older loader has
 * no handler and prints "Unknown relocation type 57". Bookworm's binutils
 * 2.40 writes `.4byte sym - .` as an R_RISCV_ADD32/R_RISCV_SUB32 pair, so
 * the word states its relocation with `.reloc`. The init function checks
 * the word the loader wrote and refuses to load (-EINVAL) when it does not
 * lead to its target.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/types.h>

void lg_pcrel32_target(void);
noinline void lg_pcrel32_target(void)
{
	barrier();
}

extern const s32 lg_pcrel32_word;
asm(".pushsection .rodata, \"a\"\n"
    "	.balign 4\n"
    "	.globl lg_pcrel32_word\n"
    "lg_pcrel32_word:\n"
    "	.4byte 0\n"
    "	.reloc lg_pcrel32_word, R_RISCV_32_PCREL, lg_pcrel32_target\n"
    "	.popsection\n");

static int __init lg_pcrel32_init(void)
{
	unsigned long word = (unsigned long)&lg_pcrel32_word;
	unsigned long target = word + (long)READ_ONCE(lg_pcrel32_word);

	if (target != (unsigned long)&lg_pcrel32_target) {
		pr_err("lg_pcrel32: word at %lx leads to %lx, not %lx\n", word,
		       target, (unsigned long)&lg_pcrel32_target);
		return -EINVAL;
	}
	lg_pcrel32_target();
	pr_info("lg_pcrel32: loaded, 32-bit PC-relative word resolved\n");
	return 0;
}
module_init(lg_pcrel32_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("layoutgen test module with an R_RISCV_32_PCREL word");
