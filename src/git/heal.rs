//! The healing helper (`git-sandbox __heal <worktree>`): after a checkout or restore, a
//! detached process heals the racily clean index (`racy.rs`) once a second has passed, so
//! neither `list` nor `rm` pays for re-hashing every file.
//!
//! It never makes the user's (or an agent's) git fail: it takes no lock, writes no file git
//! reads, and renames nothing. git takes `index.lock` with no waiting, so any moment a lock of
//! ours existed was a moment a `git add` or `git commit` could fail (a loaded CI machine hit it).
//! What heals a racily clean index is git's own check: an entry is trusted by its stat data once
//! the index file is newer than the file. So, as git does before it writes an index:
//! 1. the index is opened and pinned (its inode, size and mtime);
//! 2. a read-only `git status` (`--no-optional-locks`) re-checks every racy entry by content;
//! 3. only when it found no unstaged change, and the index path still holds the pinned file,
//!    that file's mtime is set to now through the descriptor ([`Pinned::settle`]). A git that
//!    replaced the index meanwhile replaced an inode that no longer is the index: moving its
//!    time changes nothing anyone reads. A change made after step 2 has a later mtime than the
//!    checkout's, so git still sees it by stat (timestamps finer than a second are required:
//!    on a file system with whole-second times nothing is healed).
//!
//! SIGTERM (`rm` and `mv` stop the helper, [`stop_helper`]) only sets a flag, checked before
//! step 3. `list`'s status of a still racy index (`status.rs`) heals the same way.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::gitfile_target;
use super::racy::{HEALED, needs_heal};

/// Below this index size (about 1,000 entries) a racy re-hash costs little, and no helper is
/// left running behind `new`.
const WORTH_HEALING: u64 = 64 * 1024;
/// The helper's pid, in the worktree's admin dir.
const HELPER_PID: &str = "git-sandbox-heal.pid";
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
/// (see the module doc), and removes its pid file. Always exits 0.
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
            heal_now(worktree, &admin);
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

/// Steps 1-3 of the module doc, for the helper.
fn heal_now(worktree: &Path, admin: &Path) -> bool {
    let Some(pin) = Pinned::open(admin) else {
        return false;
    };
    let out = super::git_cmd(worktree)
        .args(["--no-optional-locks", "status", "--porcelain=v2", "-z"])
        .args(["--untracked-files=no", "--ignore-submodules=none"])
        .output();
    let matches = out.is_ok_and(|o| {
        o.status.success()
            && super::status::worktree_matches_index(&super::status::parse(&o.stdout))
    });
    matches && !stopped() && pin.settle()
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

impl Version {
    fn of(m: &fs::Metadata) -> Version {
        Version {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: m.mtime(),
            mtime_ns: m.mtime_nsec(),
        }
    }
}

/// The index, opened before the status that checks it (step 1).
pub struct Pinned {
    file: fs::File,
    index: std::path::PathBuf,
    admin: std::path::PathBuf,
    version: Version,
}

impl Pinned {
    /// Opens the index in `admin`; `None` when it cannot be (then nothing heals).
    pub fn open(admin: &Path) -> Option<Pinned> {
        let index = admin.join("index");
        let file = fs::File::open(&index).ok()?;
        let version = Version::of(&file.metadata().ok()?);
        Some(Pinned {
            file,
            index,
            admin: admin.to_path_buf(),
            version,
        })
    }

    /// Step 3, once a read-only status found the worktree matching this index: the pinned
    /// file's mtime set to now, only if it still is the index, unchanged, on a file system
    /// with sub-second times. Marks the worktree healed; `true` when it was.
    pub fn settle(self) -> bool {
        let now_at_path = fs::symlink_metadata(&self.index).map(|m| Version::of(&m));
        // Whole-second times (a zero nanosecond part, both) cannot tell a later change apart.
        let fine_times = self.version.mtime_ns != 0;
        if now_at_path.ok() != Some(self.version) || !fine_times {
            return false;
        }
        // `futimens` on the descriptor (the pinned inode, whatever the path holds by now), to
        // the kernel's "now": the clock file writes use, so the mark below is never older.
        use rustix::fs::{Timespec, Timestamps, UTIME_NOW, UTIME_OMIT};
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_OMIT,
            },
            last_modification: Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_NOW,
            },
        };
        if rustix::fs::futimens(&self.file, &times).is_err() {
            return false;
        }
        let _ = fs::write(self.admin.join(HEALED), b"");
        true
    }
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
