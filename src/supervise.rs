//! Children that die with git-sandbox: a long-running or writing git (`worktree add`/`move`,
//! the snapshot commands, `rm`'s full `status`) runs under a small supervisor, so that killing
//! git-sandbox (even with SIGKILL) kills that git and everything it started, instead of leaving
//! git's checkout running as an orphan that a later `prune` would race (RESEARCH.md).
//!
//! The supervisor is this binary run as `git-sandbox __supervise <parent pid> <program> <args>`:
//! 1. It makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`, through rustix's safe
//!    wrapper), so every process the program starts that is orphaned (`git worktree add` runs
//!    its checkout as a child `git reset --hard`, which starts checkout workers and hooks) is
//!    re-parented to it rather than to init: the whole tree stays findable.
//! 2. It runs the program with the same stdout, stderr, directory and environment, and exits
//!    with its status. The program's stdin is `/dev/null`; the supervisor keeps its own stdin
//!    open until it exits, so a caller can pass a locked file there to keep the lock held until
//!    the program and all it started are gone ([`crate::git::Repo::lock_worktrees`]).
//! 3. Every 50 ms it checks its own parent pid; once git-sandbox is gone (its children are
//!    re-parented, so `getppid` changes) it SIGKILLs every descendant, repeatedly, until none
//!    is left, and exits 137.
//!
//! Why not `PR_SET_PDEATHSIG` on git itself: it needs code between `fork` and `exec`
//! (`pre_exec`, which is unsafe, and the crate forbids unsafe code) or `setpriv`, and either
//! way it only reaches the direct child: git's own children are not signalled. It also fires
//! when the *thread* that spawned the child exits, and git-sandbox spawns git from scoped
//! threads. The parent-pid check has neither problem: a process's pid, unlike a thread's,
//! changes for its children only when the whole process is gone.
//!
//! Ctrl-C is unchanged: the supervisor and git stay in git-sandbox's process group, so the
//! terminal's SIGINT reaches all of them (and git still shows its progress in the foreground).
//! Off Linux, and when the binary cannot be found again, git runs directly.

use std::ffi::OsString;
use std::process::Command;
#[cfg(target_os = "linux")]
use std::time::Duration;

/// The hidden first argument that makes this binary a supervisor.
pub const ARG: &str = "__supervise";

/// A command running `program` under a supervisor of this process (see the module doc), or
/// `program` itself where that is not possible.
pub fn command(program: &str) -> Command {
    #[cfg(target_os = "linux")]
    if let Ok(exe) = std::env::current_exe()
        && exe.is_file()
    {
        let mut cmd = Command::new(exe);
        cmd.arg(ARG)
            .arg(std::process::id().to_string())
            .arg(program);
        return cmd;
    }
    Command::new(program)
}

/// Whether `cmd` (from [`command`]) runs under a supervisor.
pub fn is_supervised(cmd: &Command) -> bool {
    cmd.get_args().next().is_some_and(|a| a == ARG)
}

/// The supervisor's `main`: `args` are what follows [`ARG`]. Returns the exit code.
pub fn run(args: &[OsString]) -> i32 {
    let [parent, program, rest @ ..] = args else {
        eprintln!("git-sandbox: {ARG} needs a parent pid and a program");
        return 125;
    };
    let Some(parent) = parent.to_str().and_then(|p| p.parse::<u32>().ok()) else {
        eprintln!("git-sandbox: {ARG}: bad parent pid {parent:?}");
        return 125;
    };
    supervise(parent, program, rest)
}

#[cfg(target_os = "linux")]
fn supervise(parent: u32, program: &OsString, args: &[OsString]) -> i32 {
    use std::os::unix::process::{ExitStatusExt, parent_id};
    use std::sync::mpsc::{RecvTimeoutError, channel};

    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    // Gone before we started: run nothing.
    if parent_id() != parent {
        return 137;
    }
    let spawned = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            eprintln!("git-sandbox: cannot run {}: {e}", program.to_string_lossy());
            return 127;
        }
    };
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(status)) => {
                return status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => return 125,
            Err(RecvTimeoutError::Timeout) if parent_id() != parent => {
                kill_descendants();
                return 137;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn supervise(_parent: u32, program: &OsString, args: &[OsString]) -> i32 {
    match Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .status()
    {
        Ok(s) => s.code().unwrap_or(125),
        Err(_) => 127,
    }
}

/// SIGKILLs every live process whose parent is this one, until there is none: a killed
/// process's own children are re-parented here (we are their subreaper) and go next round.
#[cfg(target_os = "linux")]
fn kill_descendants() {
    use rustix::process::{Pid, Signal, WaitOptions, kill_process, wait};
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let kids = live_children(std::process::id());
        if kids.is_empty() || std::time::Instant::now() > deadline {
            return;
        }
        for pid in kids {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
        // Reap what died, so the next scan sees only the living.
        while let Ok(Some(_)) = wait(WaitOptions::NOHANG) {}
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Pids of the processes (zombies left out) whose parent is `me`, from `/proc/<pid>/stat`.
#[cfg(target_os = "linux")]
fn live_children(me: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
            state != Some("Z") && ppid == Some(me)
        })
        .collect()
}
