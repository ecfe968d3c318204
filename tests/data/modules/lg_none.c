// SPDX-License-Identifier: GPL-2.0
/*
 * R_RISCV_NONE (type 0), put on a data word with `.reloc`: a relocation
 * that asks for nothing. 6.12's riscv loader has no reloc_handlers entry for
 * type 0 either, so it refuses the module ("Unknown relocation type 0",
 * -EINVAL) where arm64's applies R_AARCH64_NONE as a no-op.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

asm(".pushsection .data, \"aw\"\n"
    "	.balign 4\n"
    "lg_none_word:\n"
    "	.4byte 0\n"
    "	.reloc lg_none_word, R_RISCV_NONE, lg_none_word\n"
    "	.popsection\n");

static int __init lg_none_init(void)
{
	pr_info("lg_none: loaded\n");
	return 0;
}
module_init(lg_none_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("layoutgen test module with an R_RISCV_NONE relocation");
