# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_layoutgen_global_optspecs
    string join \n h/help V/version
end

function __fish_layoutgen_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_layoutgen_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_layoutgen_using_subcommand
    set -l cmd (__fish_layoutgen_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c layoutgen -n "__fish_layoutgen_needs_command" -s h -l help -d 'Print help'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -s V -l version -d 'Print version'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "build" -d 'Check a spec and generate its linker script, Rust constants, C header and JSON'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "check" -d 'Check specs against every invariant, without generating anything'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "show" -d 'Show the memory map per paging mode, like Linux\'s vm-layout.rst'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "diff" -d 'Compare two specs, or with --elf two builds of one kernel against a spec'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "init" -d 'Write a starting spec that passes `layoutgen check`, and print the build.rs lines that use it'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "schema" -d 'Print the JSON Schema of the spec (the one in docs/spec.schema.json), for editors'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "man" -d 'Print the man page (roff), or write one page per command into a directory'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "lint" -d 'Lint linked riscv64 or aarch64 ELF files (kernels, PIEs, objects, modules) against a spec'
complete -c layoutgen -n "__fish_layoutgen_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -l spec -d 'Layout spec (default: layouts/qemu-virt-sv39.toml)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -l out-dir -d 'Output directory (default: target/layoutgen/<layout name>)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -l emit -d 'Outputs to generate, comma-separated (`boot` and `dts` for a spec with [boot.NAME] ranges)' -r -f -a "ld\t''
rs\t''
h\t''
json\t''
boot\t'boot.env and boot.cmd: U-Boot and OpenSBI variables of the spec\'s [boot.NAME] ranges, and the U-Boot script that loads and boots at them'
dts\t'boot.dtsi: the reserved ranges as a device-tree fragment'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -l templates -d 'Directory of templates that replace the built-in ones of the same name' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -l dtb -d 'Also check the layout against the RAM of this flattened device tree (.dtb)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand check" -l format -r -f -a "human\t''
json\t''"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand check" -l dtb -d 'Also check against the RAM of this flattened device tree (.dtb)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand check" -l artifact -d 'A boot-chain artifact whose memory footprint must fit its range: `kernel=Image` (or the ELF), or `NAME=FILE` for a [boot.NAME] (e.g. `fdt=virt.dtb`, `initrd=initrd.img`). Repeatable' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand check" -s h -l help -d 'Print help'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l spec -d 'Layout spec (default: layouts/qemu-virt-sv39.toml)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l mode -d 'Only this paging mode' -r -f -a "sv39\t'riscv64, 39-bit virtual addresses (3 levels)'
sv48\t'riscv64, 48-bit virtual addresses (4 levels)'
sv57\t'riscv64, 57-bit virtual addresses (5 levels)'
va39\t'aarch64, 4 KiB granule, 39-bit virtual addresses (3 levels)'
va48\t'aarch64, 4 KiB granule, 48-bit virtual addresses (4 levels)'
bare\t'No paging (riscv `satp = 0`, aarch64 MMU off): firmware, or a kernel before it turns paging on. Addresses are physical'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l ram -d 'Also show the page-table cost of mapping this much RAM (e.g. 2GiB)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l device-pages -d '4 KiB device pages mapped in the fixmap (the sample kernel maps 1)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l format -r -f -a "human\t'A terminal table in the columns of Linux\'s vm-layout.rst'
json\t'The resolved layout (and page-table cost) as JSON'
markdown\t'A Markdown section per mode, to paste into documentation'
rst\t'A reStructuredText section per mode (Sphinx, kernel-doc)'
svg\t'An SVG memory-map picture, one column per mode'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l dtb -d 'Check against the RAM of this flattened device tree (.dtb); its RAM size is the default for --ram' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -l elf -d 'Resolve against this linked kernel: `image.end` becomes its real end (rounded up to 4 KiB), so windows such as Linux\'s modules area (`PFN_ALIGN(_end) - 2 GiB`) are the ones it really gets' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand diff" -l spec -d 'With --elf: the spec both builds were linked with' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand diff" -l mode -d 'With --elf: the paging mode whose regions are used (default: the spec\'s first); lint runs in it too (default: every mode)' -r -f -a "sv39\t'riscv64, 39-bit virtual addresses (3 levels)'
sv48\t'riscv64, 48-bit virtual addresses (4 levels)'
sv57\t'riscv64, 57-bit virtual addresses (5 levels)'
va39\t'aarch64, 4 KiB granule, 39-bit virtual addresses (3 levels)'
va48\t'aarch64, 4 KiB granule, 48-bit virtual addresses (4 levels)'
bare\t'No paging (riscv `satp = 0`, aarch64 MMU off): firmware, or a kernel before it turns paging on. Addresses are physical'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand diff" -l format -d 'Output format; `markdown` (a pull-request comment) needs --elf' -r -f -a "human\t''
json\t''
markdown\t'A pull-request comment: the verdict line and a table (with --elf)'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand diff" -l elf -d 'OLD and NEW are linked ELF files of one kernel, compared against --spec'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l from-elf -d 'Describe this linked riscv64 or aarch64 ELF (sections, segments, load rule, boundary symbols, gp), so `layoutgen lint --spec` reports only its true defects. Its shape comes from the ELF (VA = PA in physical RAM, or a PIE at 0: bare); --shape, --modes, --ram-base and --load-addr steer it' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l arch-defaults -d 'With --from-elf: whose conventions fill in what the ELF does not say' -r -f -a "linux\t'Linux riscv64 on QEMU virt: Linux\'s regions, QEMU\'s RAM, a 2 MiB physical alignment'
plain\t'Only what the ELF says; everything else is marked TODO'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l from -d 'Start from this bundled layout' -r -f -a "qemu-virt-sv39\t''
qemu-virt-multi\t''
qemu-virt-semipic\t''
qemu-virt-in-linear-map\t''
linux-riscv64\t''
qemu-virt-identity\t''
qemu-virt-bare\t''
qemu-virt-firmware-pie\t''
qemu-virt-multi-onemap\t''
qemu-virt-aarch64\t''
linux-arm64\t''"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l arch -d 'The architecture: `aarch64` starts from the bundled qemu-virt-aarch64 layout (QEMU virt, 39/48-bit VA, 4 KiB granule)' -r -f -a "riscv64\t''
aarch64\t''"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l shape -d 'Start from the bundled layout of a kernel shape: `identity` (S-mode, paging on, VA = PA), `bare` (no paging: firmware), `linux` (higher half). With --from-elf: describe the ELF as that shape (refused if the ELF contradicts it)' -r -f -a "identity\t''
bare\t''
linux\t''"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l name -d 'Layout name (default: the file name, or `my-kernel`; with --from, the bundled name)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l modes -d 'Paging modes the image must run under, comma-separated (default: sv39; with --from-elf: as the ELF says)' -r -f -a "sv39\t'riscv64, 39-bit virtual addresses (3 levels)'
sv48\t'riscv64, 48-bit virtual addresses (4 levels)'
sv57\t'riscv64, 57-bit virtual addresses (5 levels)'
va39\t'aarch64, 4 KiB granule, 39-bit virtual addresses (3 levels)'
va48\t'aarch64, 4 KiB granule, 48-bit virtual addresses (4 levels)'
bare\t'No paging (riscv `satp = 0`, aarch64 MMU off): firmware, or a kernel before it turns paging on. Addresses are physical'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l ram-base -d 'Physical address of the first byte of RAM (default: 0x8000_0000; with --from-elf: the image\'s GiB)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l ram-size -d 'The most RAM the linear map must cover (default: 16GiB)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l load-addr -d 'Physical address the loader puts the image at (default: 2 MiB into RAM; with --from-elf: its LMA, or the RAM base for a PIE)' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -l force -d 'Overwrite an existing file'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand schema" -s h -l help -d 'Print help'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand man" -l out-dir -d 'Write layoutgen.1 and layoutgen-<command>.1 here instead of printing layoutgen.1' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand man" -s h -l help -d 'Print help'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l spec -d 'Layout spec the ELF was built from (default: layouts/qemu-virt-sv39.toml)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l mode -d 'Check against this paging mode only (default: every mode the spec lists)' -r -f -a "sv39\t'riscv64, 39-bit virtual addresses (3 levels)'
sv48\t'riscv64, 48-bit virtual addresses (4 levels)'
sv57\t'riscv64, 57-bit virtual addresses (5 levels)'
va39\t'aarch64, 4 KiB granule, 39-bit virtual addresses (3 levels)'
va48\t'aarch64, 4 KiB granule, 48-bit virtual addresses (4 levels)'
bare\t'No paging (riscv `satp = 0`, aarch64 MMU off): firmware, or a kernel before it turns paging on. Addresses are physical'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l format -d 'Output format' -r -f -a "human\t'Findings grouped by severity, with a one-line summary'
json\t'A stable JSON document (schema layoutgen-lint/1)'
github\t'GitHub Actions workflow commands (::error/::warning/::notice)'
sarif\t'SARIF 2.1.0, for code-scanning uploads'"
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l allow -d 'Suppress a check\'s findings (still counted): a check id (LG006) or name. Repeatable; overrides the spec\'s [lint] table' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l warn -d 'Report a check\'s findings as warnings: a check id or name. Repeatable; overrides the spec' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l deny -d 'Report a check\'s findings as errors (a check id or name), or `warnings`: treat every warning as a failure. Repeatable; overrides the spec' -r
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l baseline -d 'Report only findings not in FILE, a previous `lint --format json` output (matched by check, symbol, section and spec key), and how many of its findings are gone; the exit status counts only new findings' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -l page-tables -d 'A running kernel\'s page-table dump (QEMU `info mem`, Linux riscv64 kernel_page_tables) to check against the spec in --mode instead of ELF files; the kernel\'s ELF, if given, adds the image\'s segment permissions (docs/page-tables.md)' -r -F
complete -c layoutgen -n "__fish_layoutgen_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "build" -d 'Check a spec and generate its linker script, Rust constants, C header and JSON'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "check" -d 'Check specs against every invariant, without generating anything'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "show" -d 'Show the memory map per paging mode, like Linux\'s vm-layout.rst'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "diff" -d 'Compare two specs, or with --elf two builds of one kernel against a spec'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "init" -d 'Write a starting spec that passes `layoutgen check`, and print the build.rs lines that use it'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "schema" -d 'Print the JSON Schema of the spec (the one in docs/spec.schema.json), for editors'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "completions" -d 'Print a shell completion script'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "man" -d 'Print the man page (roff), or write one page per command into a directory'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "lint" -d 'Lint linked riscv64 or aarch64 ELF files (kernels, PIEs, objects, modules) against a spec'
complete -c layoutgen -n "__fish_layoutgen_using_subcommand help; and not __fish_seen_subcommand_from build check show diff init schema completions man lint help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
