//! Racily clean indexes. `git worktree add` (and restore) write the files and then the index
//! in the same second, so git cannot trust the index's stat data for those files ("racily
//! clean") and every `git status` re-reads and re-hashes them. A status that may write the
//! index heals it for good once a second has passed; `list` runs with `--no-optional-locks`
//! and `rm` holds the index lock, so neither ever would, and a fresh sandbox stayed slow.
//!
//! The sign, for two `stat` calls: the index was last written within a few seconds of the
//! worktree's `.git` file (so nothing has rewritten it since the checkout), and that was at
//! least a second ago (so a rewrite now makes the entries trustworthy). Healing is git's own
//! `update-index --refresh`, or a `status` allowed to write: the same refresh every plain
//! `git status` does.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::gitfile_target;

/// The index has not been rewritten since the checkout more than this after it.
const SINCE_CHECKOUT: Duration = Duration::from_secs(3);
/// A rewrite heals only once the files' second is over.
const SETTLED: Duration = Duration::from_secs(1);

/// Whether the worktree's index is likely racily clean from its checkout and healable now.
pub fn needs_heal(worktree: &Path) -> bool {
    let Some(admin) = gitfile_target(worktree) else {
        return false;
    };
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let (Some(index), Some(dotgit)) = (mtime(&admin.join("index")), mtime(&worktree.join(".git")))
    else {
        return false;
    };
    // The helper healed it already (its mark is newer than the index).
    if mtime(&admin.join(HEALED)).is_some_and(|m| m >= index) {
        return false;
    }
    let unchanged = index
        .duration_since(dotgit)
        .is_ok_and(|d| d <= SINCE_CHECKOUT);
    let settled = SystemTime::now()
        .duration_since(index)
        .is_ok_and(|d| d >= SETTLED);
    unchanged && settled
}

/// Heals a racily clean index with `git update-index -q --refresh` (it exits 1 when files
/// are modified; the refresh is written all the same). A failure (the index locked by the
/// user's git) only means no healing.
pub fn heal(worktree: &Path) {
    if needs_heal(worktree) {
        let _ = super::git_cmd(worktree)
            .args(["update-index", "-q", "--refresh"])
            .output();
    }
}

/// Turns on git's untracked cache in a worktree's index (`update-index --untracked-cache`; the
/// healing helper does it for a new one, and `mv` for a moved one):
/// once a status may write it (the helper's, `list`'s healing one, or the user's own), later statuses skip
/// the directories that did not change, about a third less work on a big tree. Only `list`
/// reads it; `rm`'s looks never trust it (`status.rs`). A failure leaves the index as it was.
pub fn enable_untracked_cache(worktree: &Path) {
    let _ = super::git_cmd(worktree)
        .args(["update-index", "--untracked-cache"])
        .output();
}

/// Below this index size (about 1,000 entries) a racy re-hash costs little, and no helper is
/// left running behind `new`.
const WORTH_HEALING: u64 = 64 * 1024;
/// The helper's mark that it healed the index, in the worktree's admin dir.
const HEALED: &str = "git-sandbox-healed";
/// The helper's pid, in the worktree's admin dir.
const HELPER_PID: &str = "git-sandbox-heal.pid";
/// The hidden argument that runs the helper.
pub const HELPER_ARG: &str = "__heal";

/// After a checkout or restore: a detached helper (`git-sandbox __heal <worktree>`) heals the
/// index once a second has passed, so neither `list` nor `rm` pays for the racily clean
/// entries. It takes `index.lock` as git does and gives up when it is held; `rm` and `mv`
/// stop it first ([`stop_helper`]). Only for indexes worth it ([`WORTH_HEALING`]).
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

/// The helper's body: waits until the index is a second old (at most a few seconds), heals it,
/// and removes its pid file.
pub fn run_helper(worktree: &Path) -> i32 {
    let admin = gitfile_target(worktree);
    let index_time = || {
        admin.as_ref().and_then(|a| {
            fs::metadata(a.join("index"))
                .and_then(|m| m.modified())
                .ok()
        })
    };
    for _ in 0..30 {
        if needs_heal(worktree) {
            // A status allowed to write: the refreshed stat data and the untracked cache,
            // as the user's own first `git status` would write them.
            let before = index_time();
            // git's untracked cache, off `new`'s path: the status below fills it.
            enable_untracked_cache(worktree);
            let _ = super::git_cmd(worktree)
                .args(["status", "--porcelain", "-z"])
                .output();
            if index_time() != before
                && let Some(a) = &admin
            {
                let _ = fs::write(a.join(HEALED), b"");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Some(admin) = admin {
        let pid = admin.join(HELPER_PID);
        if fs::read_to_string(&pid).is_ok_and(|p| p.trim() == std::process::id().to_string()) {
            let _ = fs::remove_file(pid);
        }
    }
    0
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
/// for it and its git to be gone: a removal or move never races it.
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
}
