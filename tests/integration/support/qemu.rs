//! Booting a kernel under QEMU, for both architectures: one run with a
//! timeout, and what the sample kernels print (their `check NAME: ok`
//! lines, `RESULT: PASS`, the `layout: key=value ...` summary line).

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One boot: the console output, QEMU's exit status and how long it took.
pub struct Boot {
    /// stdout, then stderr.
    pub output: String,
    pub status: i32,
    /// From starting QEMU to its exit.
    pub elapsed: Duration,
    /// The prefix of the kernel's own lines (`sample-kernel:`), where the
    /// failure context starts (what comes before is firmware).
    banner: &'static str,
}

/// `qemu-system-aarch64` as every aarch64 boot here starts: the virt
/// machine, a Cortex-A72, the console on stdio. No NIC: the default virtio
/// one needs iPXE's ROM (package ipxe-qemu, a Recommends that
/// scripts/apt-install does not install) and no kernel here uses it.
pub fn aarch64_virt() -> Command {
    let mut cmd = Command::new("qemu-system-aarch64");
    cmd.args([
        "-machine",
        "virt",
        "-cpu",
        "cortex-a72",
        "-nographic",
        "-nic",
        "none",
    ]);
    cmd
}

/// The device tree QEMU's riscv `virt` machine gives a guest with `ram` of
/// RAM (`-machine dumpdtb=`), as `DIR/virt-RAM.dtb`.
pub fn riscv_virt_dtb(dir: &std::path::Path, ram: &str) -> std::path::PathBuf {
    let path = dir.join(format!("virt-{ram}.dtb"));
    let out = Command::new("qemu-system-riscv64")
        .args(["-machine", "virt", "-m", ram, "-nographic"])
        .arg("-machine")
        .arg(format!("dumpdtb={}", path.display()))
        .stdin(Stdio::null())
        .output()
        .expect("qemu-system-riscv64 is required (Debian package qemu-system-misc)");
    assert!(
        out.status.success() && path.exists(),
        "qemu-system-riscv64 could not dump a device tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// Runs `cmd`, a QEMU command line the kernel powers off from, with its
/// output captured; kills it after `timeout` and fails with what it printed.
pub fn run(mut cmd: Command, timeout: Duration, banner: &'static str) -> Boot {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let _ = stderr.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for QEMU") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let output = reader.join().unwrap_or_default();
            panic!(
                "QEMU did not power off within {timeout:?} (killed); {cmd:?}\noutput so far:\n{output}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Boot {
        output: reader.join().expect("reader thread"),
        status: status.code().unwrap_or(-1),
        elapsed: started.elapsed(),
        banner,
    }
}

impl Boot {
    /// The exit status and the kernel's output, for failure messages.
    pub fn context(&self) -> String {
        let start = self.output.find(self.banner).unwrap_or(0);
        format!(
            "QEMU exit status {}, kernel output:\n{}",
            self.status,
            &self.output[start..]
        )
    }

    /// `RESULT: PASS`, exit status 0, and at least `min_checks` checks ran,
    /// every one ok.
    pub fn assert_pass(&self, min_checks: usize) {
        assert!(
            self.output.contains("\nRESULT: PASS"),
            "no RESULT: PASS\n{}",
            self.context()
        );
        assert_eq!(self.status, 0, "QEMU exit status\n{}", self.context());
        let checks: Vec<&str> = self
            .output
            .lines()
            .filter(|l| l.starts_with("check "))
            .collect();
        assert!(
            checks.len() >= min_checks,
            "too few checks ran\n{}",
            self.context()
        );
        for c in checks {
            assert!(c.ends_with(": ok"), "{c}\n{}", self.context());
        }
    }

    /// The kernel printed each of `lines`, and QEMU exited with `status`
    /// (the kernel's failure code).
    #[track_caller]
    pub fn assert_failed(&self, status: i32, lines: &[&str]) {
        for line in lines {
            self.assert_printed(line);
        }
        assert_eq!(self.status, status, "{}", self.context());
    }

    /// The kernel printed `text`.
    #[track_caller]
    pub fn assert_printed(&self, text: &str) {
        assert!(self.output.contains(text), "{}", self.context());
    }

    /// The boot cut where the line starting with `marker` begins: what
    /// came before it (a firmware's own output) and from it on (its next
    /// stage's), each with QEMU's exit status.
    pub fn split_at(&self, marker: &str) -> (Boot, Boot) {
        let at = self
            .output
            .find(&format!("\n{marker}"))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no line starting {marker:?}\n{}", self.context()));
        let part = |output: &str| Boot {
            output: output.to_string(),
            status: self.status,
            elapsed: self.elapsed,
            banner: self.banner,
        };
        (part(&self.output[..at]), part(&self.output[at..]))
    }

    /// The `layout: ...` summary line.
    pub fn summary_line(&self) -> &str {
        self.output
            .lines()
            .find(|l| l.starts_with("layout: "))
            .unwrap_or_else(|| panic!("no summary line\n{}", self.context()))
            .trim_end_matches('\r')
    }

    /// The summary line's `key=value` fields.
    pub fn summary(&self) -> Summary {
        let line = self.summary_line();
        let fields = line["layout: ".len()..]
            .split(' ')
            .map(|f| {
                let (k, v) = f
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad field {f:?} in {line}"));
                (k.to_string(), v.to_string())
            })
            .collect();
        Summary {
            line: line.to_string(),
            fields,
        }
    }

    /// The summary line's fields, which must be exactly `keys` in order.
    pub fn summary_with(&self, keys: &[&str]) -> Summary {
        let line = self.summary_line();
        let fields: Vec<&str> = line["layout: ".len()..].split(' ').collect();
        assert_eq!(fields.len(), keys.len(), "summary line shape: {line}");
        for (field, &key) in fields.iter().zip(keys) {
            let (k, _) = field
                .split_once('=')
                .unwrap_or_else(|| panic!("bad field {field:?} in {line}"));
            assert_eq!(k, key, "summary line field order: {line}");
        }
        self.summary()
    }
}

/// The fields of a summary line.
#[derive(Debug)]
pub struct Summary {
    pub line: String,
    fields: HashMap<String, String>,
}

impl Summary {
    pub fn str(&self, key: &str) -> &str {
        &self.fields[key]
    }

    /// A number, `0x` hex or decimal.
    pub fn num(&self, key: &str) -> u64 {
        let v = self.str(key);
        let parsed = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("{key}={v} is not a number in {}", self.line))
    }

    /// A `0xSTART-0xEND` range.
    pub fn range(&self, key: &str) -> (u128, u128) {
        let (a, b) = self.str(key).split_once('-').expect("a range");
        let hex = |s: &str| u128::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        (hex(a), hex(b))
    }
}

impl std::ops::Index<&str> for Summary {
    type Output = String;

    fn index(&self, key: &str) -> &String {
        &self.fields[key]
    }
}

/// Runs `cmd` (a QEMU command line) until its console prints `until`, then
/// asks QEMU's monitor for `info mem` (the page tables of the current
/// `satp`) and quits. `-no-shutdown` keeps a guest that powered off paused
/// with its state, so a kernel that exits after its checks can be dumped
/// too. Returns (console output, the monitor's answer); fails after
/// `timeout`.
pub fn info_mem(cmd: Command, until: &str, timeout: Duration) -> (String, String) {
    let (console, mut answers) = monitor(cmd, until, timeout, &["info mem"]);
    (console, answers.remove(0))
}

/// Runs `cmd` with a monitor socket until the console prints `until`, then
/// sends each of `commands` to the monitor (e.g. `pmemsave ADDR SIZE FILE`)
/// and quits: (console output, each command's answer). `-no-shutdown` as
/// for [`info_mem`].
pub fn monitor(
    mut cmd: Command,
    until: &str,
    timeout: Duration,
    commands: &[&str],
) -> (String, Vec<String>) {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("monitor.sock");
    cmd.arg("-monitor")
        .arg(format!("unix:{},server,nowait", socket.display()))
        .arg("-no-shutdown")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
    let console = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&console);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut c = sink.lock().unwrap();
            c.push_str(&line);
            c.push('\n');
        }
    });
    let started = Instant::now();
    while !console.lock().unwrap().contains(until) {
        if started.elapsed() > timeout || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the console never printed {until:?}; {cmd:?}\noutput:\n{}",
                console.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the guest settle (a power-off request reaches QEMU just after the
    // kernel's last line).
    std::thread::sleep(Duration::from_millis(300));
    let mut monitor = UnixStream::connect(&socket).unwrap_or_else(|e| {
        let status = child.try_wait().ok().flatten();
        panic!(
            "QEMU's monitor socket: {e} (QEMU exited: {status:?}); {cmd:?}\noutput:\n{}",
            console.lock().unwrap()
        )
    });
    monitor
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let read_until_prompt = |monitor: &mut UnixStream| {
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_secs(20) {
            match monitor.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) if String::from_utf8_lossy(&got).ends_with("(qemu) ") => break,
                Err(_) => {}
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    };
    read_until_prompt(&mut monitor);
    let answers = commands
        .iter()
        .map(|c| {
            monitor.write_all(format!("{c}\n").as_bytes()).unwrap();
            read_until_prompt(&mut monitor)
        })
        .collect();
    let _ = monitor.write_all(b"quit\n");
    let _ = child.wait();
    let console = console.lock().unwrap().clone();
    (console, answers)
}
