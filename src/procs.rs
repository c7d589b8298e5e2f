//! Processes still working inside a directory, read from Linux's `/proc`, and stopping them.
//!
//! A process is "inside" when its current directory, its root, or one of its open files is at
//! or under the directory. git-sandbox's own process and its ancestors (the shell and the `git`
//! that ran it, waiting for it) are never counted: they are not writing. Processes of other
//! users that cannot be read are skipped. Elsewhere than Linux the list is empty.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One process found inside.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Proc {
    pub pid: u32,
    /// Its command name (`/proc/<pid>/comm`).
    pub name: String,
    /// What ties it to the directory: `cwd`, `root` or an open file's path.
    pub holds: String,
}

impl Proc {
    pub fn describe(&self) -> String {
        format!("{} (pid {}): {}", self.name, self.pid, self.holds)
    }
}

/// Every process (but ours and our ancestors) with its cwd, root or an open file under `dir`.
pub fn inside(dir: &Path) -> Vec<Proc> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let skip = ancestors();
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if skip.contains(&pid) {
            continue;
        }
        if let Some(holds) = holding(&e.path(), dir) {
            out.push(Proc {
                pid,
                name: comm(pid),
                holds,
            });
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

/// What of process `proc_dir` is under `dir`, if anything.
fn holding(proc_dir: &Path, dir: &Path) -> Option<String> {
    let under = |p: &Path| p.starts_with(dir);
    for link in ["cwd", "root"] {
        if let Ok(t) = fs::read_link(proc_dir.join(link))
            && under(&t)
            && !(link == "root" && t == Path::new("/"))
        {
            return Some(format!("{link} {}", t.display()));
        }
    }
    let fds = fs::read_dir(proc_dir.join("fd")).ok()?;
    for fd in fds.flatten() {
        if let Ok(t) = fs::read_link(fd.path())
            && under(&t)
        {
            return Some(format!("open file {}", t.display()));
        }
    }
    None
}

/// Our pid and every ancestor's.
fn ancestors() -> Vec<u32> {
    let mut out = vec![std::process::id()];
    let mut pid = std::process::id();
    while let Some(parent) = parent_of(pid) {
        if parent == 0 || out.contains(&parent) {
            break;
        }
        out.push(parent);
        pid = parent;
    }
    out
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Whether a process is running (Linux: `/proc`; elsewhere assumed alive).
pub fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    // A zombie has exited: it holds nothing any more.
    match fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_none_or(|state| state != "Z"),
        Err(_) => false,
    }
}

/// Whether `pid` is a running git-sandbox (its `argv[0]` names it; a pid a crashed one left
/// may have been given to another program since). Elsewhere than Linux: [`alive`].
pub fn alive_git_sandbox(pid: u32) -> bool {
    if !alive(pid) {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return !Path::new("/proc/self").exists();
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let name = Path::new(std::ffi::OsStr::from_bytes(argv0)).file_name();
    name.is_some_and(|n| n.to_string_lossy().starts_with("git-sandbox"))
}

/// Stops the processes: SIGTERM, up to `grace` for them to exit, then SIGKILL. Returns those
/// still alive after that (e.g. another user's). Uses the `kill` program: no unsafe code.
pub fn stop(procs: &[Proc], grace: Duration) -> Vec<Proc> {
    signal(procs, "TERM");
    let start = Instant::now();
    while start.elapsed() < grace && procs.iter().any(|p| alive(p.pid)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<Proc> = procs.iter().filter(|p| alive(p.pid)).cloned().collect();
    if left.is_empty() {
        return left;
    }
    signal(&left, "KILL");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) && left.iter().any(|p| alive(p.pid)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    left.into_iter().filter(|p| alive(p.pid)).collect()
}

fn signal(procs: &[Proc], sig: &str) {
    if procs.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .args(procs.iter().map(|p| p.pid.to_string()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Whether any process (but ours) has `file` open.
pub fn file_open(file: &Path) -> bool {
    let Ok(rd) = fs::read_dir("/proc") else {
        return false;
    };
    let me = std::process::id();
    let file: PathBuf = file.to_path_buf();
    rd.flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
                .is_some_and(|p| p != me)
        })
        .any(|e| {
            fs::read_dir(e.path().join("fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| fs::read_link(fd.path()).is_ok_and(|t| t == file))
            })
        })
}
