// SPDX-License-Identifier: GPL-2.0
/*
 * A relocation type 6.12's loader has no handler for at all:
 * R_RISCV_GPREL_I (type 47, a gp-relative offset of the old psABI), put on
 * a data word with the assembler's `.reloc` directive. The loader refuses
 * the module with "Unknown relocation type 47" (-EINVAL) before anything
 * runs; the word is never used.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

asm(".pushsection .data, \"aw\"\n"
    "	.balign 4\n"
    "lg_gprel_word:\n"
    "	.4byte 0\n"
    "	.reloc lg_gprel_word, R_RISCV_GPREL_I, lg_gprel_word\n"
    "	.popsection\n");

static int __init lg_gprel_init(void)
{
	pr_info("lg_gprel: loaded\n");
	return 0;
}
module_init(lg_gprel_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("layoutgen test module with a relocation no loader applies");
