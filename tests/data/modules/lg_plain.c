// SPDX-License-Identifier: GPL-2.0
/*
 * A module with nothing unusual: calls and PC-relative address pairs
 * (R_RISCV_CALL_PLT, R_RISCV_PCREL_HI20/LO12_I, R_RISCV_RELAX, R_RISCV_64,
 * ...), every one applied by 6.12's loader and by older ones.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init lg_plain_init(void)
{
	pr_info("lg_plain: loaded\n");
	return 0;
}
module_init(lg_plain_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("layoutgen test module without special relocations");
