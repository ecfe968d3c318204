//! Every integration test, in one test binary (`cargo test --test
//! integration`): one link instead of one per file. Each module below was a
//! test binary of its own and keeps its name, so `cargo test --test
//! integration golden::` runs what `cargo test --test golden` ran (the filter
//! is a substring: `lint::` also matches `linux_lint::`, `--exact
//! lint::NAME` does not); `support` holds what they share.

mod support;

mod adversarial_builds;
mod boot_chain;
mod build_api;
mod check_builds;
mod ci_files;
mod cli;
mod code_models;
mod color;
mod diagnostics;
mod diff;
mod diff_elf;
mod docs;
mod dtb;
mod file_safety;
mod firmware_lint;
mod fuzz_regressions;
mod generated_code;
mod golden;
mod hostile_io;
mod hostile_specs;
mod init;
mod init_from_elf;
mod init_from_elf_firmware;
mod install_plan;
mod invariants;
mod json_lossless;
mod layout_stamp;
mod lint;
mod lint_aarch64;
mod lint_baseline;
mod lint_config;
mod lint_formats;
mod lint_fuzz;
mod lint_inputs;
mod linux_arm64_layout;
mod linux_boot;
mod linux_insmod;
mod linux_layout;
mod linux_lds;
mod linux_lint;
mod linux_lint_arm64;
mod linux_modules;
mod linux_ptdump_arm64;
mod man_completions;
mod misleading_results;
mod packaging;
mod page_tables;
mod properties;
mod random_boots;
mod sample_kernel;
mod sample_kernel_aarch64;
mod schema;
mod show_formats;
mod spec_cases;
mod spec_robustness;
mod uboot_chain;
