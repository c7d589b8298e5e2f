//! Processes still working inside a directory, read from Linux's `/proc`, and stopping them.
//!
//! A process is "inside" when its current directory, its root, or one of its open files is at
//! or under the directory. git-sandbox's own process and its ancestors (the shell and the `git`
//! that ran it, waiting for it) are never counted: they are not writing; nor is the rest of
//! its own pipeline (`| tail`, [`pipeline`]), the user's own command line. Processes of other
//! users that cannot be read are skipped. Elsewhere than Linux the list is empty.
//!
//! Containers count as processes ([`working_in`]): a mount namespace whose mounts reach the
//! directory ([`mounts`], the kernel's own tables, any engine or none) is one entry, named
//! through its engine where one answers ([`engine`]: container name and image), else "a
//! process in another mount namespace". What could not be looked into is said ([`Check`]).

pub mod engine;
pub mod mounts;
mod pipeline;
mod working;

pub use working::{Check, Own, working_in};

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One process found inside (or one container, or one other mount namespace).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Proc {
    pub pid: u32,
    /// Its command name (`/proc/<pid>/comm`).
    pub name: String,
    /// What ties it to the directory: `cwd`, `root`, an open file's path, or a bind mount.
    pub holds: String,
    /// The container it is, when an engine named it.
    pub container: Option<Container>,
    /// The mount namespace it lives in (`mnt:[…]`, or `container <id>` when only its engine
    /// could see it), when it is not ours: a container, named or not. Everything in it is
    /// stopped together.
    pub ns: Option<String>,
    /// Its processes when it was found, `pid` first.
    pub pids: Vec<u32>,
}

/// A container, as its engine names it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Container {
    /// `docker` or `podman`.
    pub engine: String,
    pub id: String,
    pub name: String,
    pub image: String,
}

impl Proc {
    pub fn describe(&self) -> String {
        match &self.container {
            Some(c) => format!(
                "container {} (image {}, {}, pid {}): {}",
                c.name, c.image, c.engine, self.pid, self.holds
            ),
            None if self.ns.is_some() => format!(
                "a process in another mount namespace (pid {}, {}): {}",
                self.pid, self.name, self.holds
            ),
            None => format!("{} (pid {}): {}", self.name, self.pid, self.holds),
        }
    }

    pub(crate) fn plain(pid: u32, holds: String) -> Proc {
        Proc {
            pid,
            name: comm(pid),
            holds,
            container: None,
            ns: None,
            pids: vec![pid],
        }
    }
}

/// Every process (but ours, our ancestors, our descendants and our pipeline's: [`pipeline`])
/// with its cwd, root or an open file under one of `dirs` (see [`working_in`] for containers
/// too).
fn inside(dirs: &[&Path]) -> Vec<Proc> {
    let mut skip = ancestors();
    skip.extend(idle_mates(dirs, &skip));
    let me = std::process::id();
    scan(dirs, &skip)
        .into_iter()
        .filter(|p| !descends_from(p.pid, me))
        .collect()
}

/// Whether `pid` is a child of `me`, or a child's child…: a `git` of our own (its supervisor,
/// its hooks and filters), never a process working in the tree. One gone by now
/// (no `/proc` entry left) holds nothing any more: counted as ours.
fn descends_from(pid: u32, me: u32) -> bool {
    let mut at = pid;
    for depth in 0..32 {
        match parent_of(at) {
            Some(p) if p == me => return true,
            Some(p) if p > 1 && p != at => at = p,
            None if depth == 0 => return !Path::new("/proc").join(pid.to_string()).exists(),
            _ => return false,
        }
    }
    false
}

/// Our pipeline's processes that hold nothing open under `dirs` (a cwd there is the shell's,
/// `| tail` run from inside): a mate with an open file there (`writer | git sandbox rm`)
/// still counts, since it may be writing.
fn idle_mates(dirs: &[&Path], skip: &[u32]) -> Vec<u32> {
    pipeline::mates(skip)
        .into_iter()
        .filter(|pid| {
            let proc_dir = Path::new("/proc").join(pid.to_string());
            dirs.iter().all(|d| open_file(&proc_dir, d).is_none())
        })
        .collect()
}

/// The pids of our own pipeline's other stages: never stopped by `--kill` (they are the
/// user's command line, and killing `| tee log` would cut off this command's own output).
pub fn own_pipeline() -> Vec<u32> {
    pipeline::mates(&ancestors())
}

/// The processes of our own pipeline (`git sandbox rm | tail`) inside `dir`: left out of what
/// works in it, and named so the user knows.
pub fn pipeline_in(dir: &Path) -> Vec<Proc> {
    let skip = ancestors();
    // Only the mates are asked, not every process: with none (no pipe on either end, as
    // usual) this costs no `/proc` scan at all.
    let mut mates = idle_mates(&[dir], &skip);
    mates.sort_unstable();
    mates
        .into_iter()
        .filter_map(|pid| {
            let holds = holding(&Path::new("/proc").join(pid.to_string()), dir)?;
            Some(Proc::plain(pid, holds))
        })
        .collect()
}

/// Every process but `skip` holding something under one of `dirs`.
fn scan(dirs: &[&Path], skip: &[u32]) -> Vec<Proc> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if skip.contains(&pid) {
            continue;
        }
        if let Some(holds) = dirs.iter().find_map(|d| holding(&e.path(), d)) {
            out.push(Proc::plain(pid, holds));
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
    open_file(proc_dir, dir)
}

/// An open file of process `proc_dir` under `dir`, if any.
fn open_file(proc_dir: &Path, dir: &Path) -> Option<String> {
    let fds = fs::read_dir(proc_dir.join("fd")).ok()?;
    for fd in fds.flatten() {
        if let Ok(t) = fs::read_link(fd.path())
            && t.starts_with(dir)
        {
            return Some(format!("open file {}", t.display()));
        }
    }
    None
}

/// Our pid and every ancestor's.
pub(crate) fn ancestors() -> Vec<u32> {
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

pub(crate) fn comm(pid: u32) -> String {
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

/// Stops the processes: containers through their engine (`stop`), the rest (and containers
/// it did not stop) by SIGTERM, up to `grace` for them to exit, then SIGKILL; a namespace's
/// processes are listed again at each signal (a shell's next child is caught too). Returns
/// those still alive after that (e.g. another user's). Uses the `kill` program: no unsafe code.
pub fn stop(procs: &[Proc], grace: Duration) -> Vec<Proc> {
    let mut engines: Vec<&str> = procs
        .iter()
        .filter_map(|p| Some(p.container.as_ref()?.engine.as_str()))
        .collect();
    engines.sort_unstable();
    engines.dedup();
    for e in engines {
        let ids: Vec<&str> = procs
            .iter()
            .filter_map(|p| p.container.as_ref())
            .filter(|c| c.engine == e)
            .map(|c| c.id.as_str())
            .collect();
        engine::stop(e, &ids, grace);
    }
    let left = signal_until_gone(procs, "TERM", grace);
    if left.is_empty() {
        return left;
    }
    signal_until_gone(&left, "KILL", Duration::from_secs(2))
}

/// Sends `sig` to what is left of each of `procs` until all are gone or `time` is up; returns
/// those left.
fn signal_until_gone(procs: &[Proc], sig: &str, time: Duration) -> Vec<Proc> {
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let left: Vec<(Proc, Vec<u32>)> = procs
            .iter()
            .map(|p| (p.clone(), live_pids(p)))
            .filter(|(_, pids)| !pids.is_empty())
            .collect();
        if left.is_empty() || start.elapsed() >= time {
            return left.into_iter().map(|(p, _)| p).collect();
        }
        // Again every 100 ms: a namespace may have started another process meanwhile.
        if sent % 5 == 0 {
            signal(left.iter().flat_map(|(_, pids)| pids), sig);
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The processes of `p` still alive: for another mount namespace, all of its processes now.
fn live_pids(p: &Proc) -> Vec<u32> {
    let mut pids: Vec<u32> = p.pids.iter().copied().filter(|q| alive(*q)).collect();
    if let Some(ns) = p.ns.as_deref().filter(|n| n.starts_with("mnt:")) {
        for q in mounts::pids_in(ns) {
            if !pids.contains(&q) && alive(q) {
                pids.push(q);
            }
        }
    }
    pids
}

fn signal<'a>(pids: impl Iterator<Item = &'a u32>, sig: &str) {
    let pids: Vec<String> = pids.map(|p| p.to_string()).collect();
    if pids.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .args(pids)
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
