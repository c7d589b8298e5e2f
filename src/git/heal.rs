//! The healing helper (`git-sandbox __heal <worktree>`): after a checkout or restore, a
//! detached process heals the racily clean index (`racy.rs`) once a second has passed, so
//! neither `list` nor `rm` pays for re-hashing every file.
//!
//! It never makes the user's (or an agent's) git fail. git takes `index.lock` with no waiting,
//! so the helper never holds it while it works; it refreshes a copy and swaps it in, git's own
//! lockfile protocol for the one instant of the swap:
//! 1. `index.git-sandbox-heal.<pid>` in the admin dir, a hard link to the index (same bytes, same
//!    mtime: git sees the same racy entries and checks them as it would in the index);
//! 2. `update-index --untracked-cache` and a `status` allowed to write, with `GIT_INDEX_FILE`
//!    naming the copy: git writes the refreshed copy (by its own rename), the index untouched;
//! 3. the swap: the copy hard-linked as `index.lock` (fails if anyone holds the lock: the
//!    helper gives up), the index checked unchanged since step 1 (same inode, size, mtime: git
//!    only ever replaces the index by a rename), then `index.lock` renamed over `index`;
//!    changed: the lock removed, nothing swapped.
//!
//! SIGTERM (`rm` and `mv` stop the helper, [`stop_helper`]) only sets a flag, checked before
//! the swap, so a stop never leaves `index.lock` behind. `list`'s status of a still racy
//! index (`status.rs`) heals the same way ([`through_copy`]).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::gitfile_target;
use super::racy::{HEALED, enable_untracked_cache, needs_heal};

/// Below this index size (about 1,000 entries) a racy re-hash costs little, and no helper is
/// left running behind `new`.
const WORTH_HEALING: u64 = 64 * 1024;
/// The helper's pid, in the worktree's admin dir.
const HELPER_PID: &str = "git-sandbox-heal.pid";
/// The copy a helper (or `list`) refreshes, in the worktree's admin dir, `.<pid>` after it.
const COPY: &str = "index.git-sandbox-heal";
/// The hidden argument that runs the helper.
pub const HELPER_ARG: &str = "__heal";

/// After a checkout or restore: starts the detached helper (see the module doc), only for
/// indexes worth it ([`WORTH_HEALING`]).
pub fn heal_later(worktree: &Path) {
    let Some(admin) = gitfile_target(worktree) else {
        return;
    };
    let big = fs::metadata(admin.join("index")).is_ok_and(|m| m.len() >= WORTH_HEALING);
    let Some(me) = std::env::current_exe().ok().filter(|_| big) else {
        return;
    };
    use std::os::unix::process::CommandExt;
    let child = std::process::Command::new(me)
        .arg(HELPER_ARG)
        .arg(worktree)
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn();
    if let Ok(c) = child {
        let _ = fs::write(admin.join(HELPER_PID), c.id().to_string());
    }
}

/// The helper's body: waits until the index is a second old (at most a few seconds), heals it
/// by a copy, and removes its pid file. Always exits 0.
pub fn run_helper(worktree: &Path) -> i32 {
    crate::interrupt::catch();
    let Some(admin) = gitfile_target(worktree) else {
        return 0;
    };
    for _ in 0..30 {
        if stopped() {
            break;
        }
        if needs_heal(worktree) {
            if heal_by_copy(worktree, &admin) {
                let _ = fs::write(admin.join(HEALED), b"");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = admin.join(HELPER_PID);
    if fs::read_to_string(&pid).is_ok_and(|p| p.trim() == std::process::id().to_string()) {
        let _ = fs::remove_file(pid);
    }
    0
}

/// Whether `rm` or `mv` asked the helper to stop (SIGTERM, caught).
fn stopped() -> bool {
    crate::interrupt::check().is_err()
}

/// Which version of a file is at a path: git replaces the index by rename only, so any write
/// is another inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_ns: i64,
}

fn version(path: &Path) -> Option<Version> {
    let m = fs::symlink_metadata(path).ok()?;
    Some(Version {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: m.mtime(),
        mtime_ns: m.mtime_nsec(),
    })
}

/// Steps 1-3 of the module doc; `true` when the healed index is in place.
fn heal_by_copy(worktree: &Path, admin: &Path) -> bool {
    through_copy(admin, |copy| refresh(worktree, copy)).is_some_and(|((), swapped)| swapped)
}

/// This process's copy of the index in `admin`.
fn copy_path(admin: &Path, pid: u32) -> std::path::PathBuf {
    admin.join(format!("{COPY}.{pid}"))
}

/// Runs `refresh` with `GIT_INDEX_FILE` naming a hard-linked copy of the index (step 1), then
/// swaps the copy in (step 3) if git wrote it. With its result, whether the copy went in;
/// `None` when no copy could be made (then nothing ran).
pub fn through_copy<T>(admin: &Path, refresh: impl FnOnce(&Path) -> T) -> Option<(T, bool)> {
    let index = admin.join("index");
    let copy = copy_path(admin, std::process::id());
    let _ = fs::remove_file(&copy);
    let before = version(&index)?;
    if fs::hard_link(&index, &copy).is_err() || version(&copy) != Some(before) {
        let _ = fs::remove_file(&copy);
        return None;
    }
    let out = refresh(&copy);
    // git wrote the copy only if it had something to write (its rename: another inode).
    let written = version(&copy).is_some_and(|v| v.ino != before.ino);
    let swapped = written && !stopped() && swap_in(&copy, admin, &before);
    let _ = fs::remove_file(&copy);
    Some((out, swapped))
}

/// Step 2: the refresh a plain `git status` does, and git's untracked cache, into `copy`.
fn refresh(worktree: &Path, copy: &Path) {
    enable_untracked_cache(worktree, Some(copy));
    let _ = super::git_cmd(worktree)
        .env("GIT_INDEX_FILE", copy)
        .args(["status", "--porcelain", "-z"])
        .output();
}

/// Step 3: `copy` in place of the index under `index.lock`, only if the index is still
/// `before` and nobody holds the lock.
fn swap_in(copy: &Path, admin: &Path, before: &Version) -> bool {
    let (index, lock) = (admin.join("index"), admin.join("index.lock"));
    // Creates the lock with the new content in one step; fails if anyone holds it.
    if fs::hard_link(copy, &lock).is_err() {
        return false;
    }
    if version(&index).as_ref() != Some(before) || fs::rename(&lock, &index).is_err() {
        let _ = fs::remove_file(&lock);
        return false;
    }
    true
}

/// Whether any process is in process group `pgid` (`/proc/<pid>/stat`'s fifth field).
fn group_alive(pgid: i32) -> bool {
    let Ok(rd) = fs::read_dir("/proc") else {
        return false;
    };
    rd.flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter_map(|e| fs::read_to_string(e.path().join("stat")).ok())
        .any(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<i32>().ok())
                == Some(pgid)
        })
}

/// Stops the worktree's helper, if one runs (checked to be ours by its command line), and waits
/// for it and its git to be gone: a removal or move never races it. Its copy goes too.
pub fn stop_helper(worktree: &Path) {
    let Some(admin) = gitfile_target(worktree) else {
        return;
    };
    let file = admin.join(HELPER_PID);
    let Some(pid) = fs::read_to_string(&file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    let ours = fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == HELPER_ARG.as_bytes()));
    if ours && let Some(p) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::TERM);
        for _ in 0..50 {
            if !group_alive(pid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = fs::remove_file(file);
    // What a killed helper (or its killed git) may have left: its copy and the copy's lock.
    if let Ok(pid) = u32::try_from(pid) {
        let _ = fs::remove_file(admin.join(format!("{COPY}.{pid}.lock")));
        let _ = fs::remove_file(copy_path(&admin, pid));
    }
}
