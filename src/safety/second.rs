//! The second look after the quarantine, made cheap when it can prove it sees what the full
//! one would.
//!
//! The full second look is the whole assessment again ([`super::assess`]): a `git status`
//! reading every file, and the walk. The quick one proves that nothing the status depends on
//! changed since the first look began, and then reuses the first look's status and ignored
//! files; everything else is looked at again (the walk, reachability, the reflog, processes
//! and containers, hidden edits, locks, an operation in progress, instances inside). In order:
//! 1. The first look qualifies: nothing nested whose insides neither look reads (repositories,
//!    worktrees, submodules, mount points), no name that is not UTF-8, no process inside, a
//!    local filesystem whose time stamps come from this machine's clock, and a settled walk
//!    stamp: no entry changed (ctime) from a clock tick before the first status on. A change
//!    within the tick of an earlier one can keep size, mtime and ctime alike (the
//!    coarse-timestamp trap), so such a tree gets the full look.
//! 2. The files git reads beside the tree are the same files (device, inode, size, mtime and
//!    ctime): the worktree's `index` and `HEAD`, its `config.worktree`, the repository's
//!    `config` and `info/exclude`, the user's and the system's git config and global ignore
//!    file. git replaces each of them by a rename (a new inode), and `rm` holds the index lock.
//!    (A `core.excludesFile` elsewhere, or a config `include.path`, is not watched: changing
//!    ignore rules there in the window changes no file of the sandbox.)
//! 3. The walk of the quarantined tree, every directory listed again and every entry stat'ed
//!    again, gives the same stamp (`scan::Stamp`): the same paths with the same stat data.
//! 4. HEAD is the same commit on the same branch.
//!
//! Any difference, or `GIT_SANDBOX_SECOND_LOOK=full`, means the full look.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{Report, Subject};
use crate::git;

/// The environment variable that forces the full second look (`full`).
pub const ENV: &str = "GIT_SANDBOX_SECOND_LOOK";

/// What the first look leaves for the second to compare with.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The files git reads beside the tree, stat'ed before the first status.
    pub files: Files,
    /// What the walk left out (disposable directories, git-sandbox's own files).
    pub skip: Vec<String>,
}

/// Stat data of the files git reads beside the tree (`None`: missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Files(Vec<Option<[i64; 7]>>);

impl Files {
    pub fn stat(s: &Subject) -> Files {
        Files(git_files(s).iter().map(|p| identity(p)).collect())
    }
}

fn identity(p: &Path) -> Option<[i64; 7]> {
    let m = fs::metadata(p).ok()?;
    let n = |v: u64| i64::try_from(v).unwrap_or(-1);
    Some([
        n(m.dev()),
        n(m.ino()),
        n(m.size()),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    ])
}

/// The files besides the tree a `git status` of it reads.
fn git_files(s: &Subject) -> Vec<PathBuf> {
    let admin = s.repo.admin_dir(s.inst.admin());
    let common = &s.repo.common_dir;
    let mut v = vec![
        admin.join("index"),
        admin.join("HEAD"),
        admin.join("config.worktree"),
        common.join("info").join("exclude"),
    ];
    // The config files git reads (system, global, the repository's), and the global ignore file.
    v.extend(git::config_files(common));
    v.extend(git::xdg_config().map(|x| x.join("git").join("ignore")));
    v
}

/// The quick second look, or `None` when it cannot prove itself right (then the full one).
pub fn quick(s: &Subject, first: &Report) -> Result<Option<Report>> {
    let Some(base) = first.baseline.as_ref() else {
        return Ok(None);
    };
    if forced_full() || !qualifies(first) || !local_fs(s.dir) || Files::stat(s) != base.files {
        return Ok(None);
    }
    let admin = s.repo.admin_dir(s.inst.admin());
    let (found, commits) = std::thread::scope(|sc| {
        let commits = sc.spawn(|| super::commits(s, &admin));
        let found = super::walk(s, &base.skip, None);
        crate::timings::step("tree walk again");
        (found, commits.join())
    });
    crate::timings::step("reachability, reflog");
    let same = found.stamp.sum == first.found.stamp.sum
        && found.stamp.entries == first.found.stamp.entries
        && git::worktree_head(s.dir) == first.status.head
        && git::worktree_branch(s.dir) == first.status.branch;
    if !same {
        return Ok(None);
    }
    let Ok(commits) = commits else {
        anyhow::bail!("checking which commits are pushed failed");
    };
    Ok(Some(super::complete(
        s,
        first.status.clone(),
        commits?,
        first.ignored.clone(),
        found,
        base.clone(),
        || super::working(s),
    )))
}

fn forced_full() -> bool {
    std::env::var_os(ENV).is_some_and(|v| v == "full")
}

/// Step 1: nothing the walk does not enter, nothing unsettled, no process inside.
fn qualifies(first: &Report) -> bool {
    let f = &first.found;
    f.nested_repos.is_empty()
        && f.worktrees.is_empty()
        && f.submodules.is_empty()
        && f.mounts.is_empty()
        && f.unreadable_names.is_empty()
        && !f.stamp.unsettled
        && first.processes.is_empty()
}

/// A local filesystem, whose time stamps come from this machine's clock (a network one's come
/// from the server's, which `unsettled` cannot compare with ours).
fn local_fs(dir: &Path) -> bool {
    const LOCAL: [i64; 7] = [
        0xEF53,      // ext2/3/4
        0x5846_5342, // xfs
        0x9123_683E, // btrfs
        0x0102_1994, // tmpfs
        0x794C_7630, // overlayfs
        0x2FC1_2FC1, // zfs
        0xF2F5_2010, // f2fs
    ];
    rustix::fs::statfs(dir).is_ok_and(|st| {
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        let t = st.f_type as i64;
        LOCAL.contains(&t)
    })
}
