// SPDX-License-Identifier: GPL-2.0
/*
 * A thread-local variable: the compiler reaches it through the thread
 * pointer, with R_RISCV_TPREL_HI20, R_RISCV_TPREL_ADD and
 * R_RISCV_TPREL_LO12_I (types 29, 32, 30). 6.12's loader knows these types
 * only to refuse them (tls_not_supported: "Thread local storage not
 * supported in kernel modules", -EINVAL), and its [module_loader] table
 * does not list them.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static __thread int lg_tls_counter;

static int __init lg_tls_init(void)
{
	lg_tls_counter++;
	pr_info("lg_tls: loaded, counter %d\n", lg_tls_counter);
	return 0;
}
module_init(lg_tls_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("layoutgen test module with thread-pointer relocations");
