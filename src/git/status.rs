//! `git status` of a worktree, read once in porcelain v2 (the CLI: 2x faster than libgit2 on
//! large trees, and it honours the user's untracked cache and fsmonitor).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Repo, check, git_cmd, git_cmd_guarded};

/// The state of one worktree, from one `git status --porcelain=v2 --branch`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Status {
    pub head: Option<String>,
    pub branch: Option<String>,
    pub upstream: Option<String>,
    /// The upstream is set but its ref is gone (deleted on the remote and pruned): git's
    /// `[gone]`, no ahead/behind.
    pub upstream_gone: bool,
    pub ahead: u32,
    pub behind: u32,
    pub staged: Vec<String>,
    pub unstaged: Vec<String>,
    pub untracked: Vec<String>,
    pub conflicted: Vec<String>,
    /// Ignored paths (directories collapsed), when asked for.
    pub ignored: Vec<String>,
}

/// How much `status` should look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// Untracked directories collapsed (for `list`).
    Quick,
    /// As `Quick`, for one of many sandboxes looked at side by side (`list`): without git's
    /// own lstat threads (`core.preloadIndex`), which only compete with the other statuses
    /// for the same cores (20 sandboxes of 25k files: 913-982 ms instead of 1,025-1,075).
    Listing,
    /// Every untracked file, and the ignored paths, in the same pass (for `rm`).
    Full,
    /// As `Full`, but without looking into submodules: for a quarantined tree, where a
    /// submodule's relative `.git` link no longer resolves (its checkout is kept whole).
    Quarantined,
}

impl Status {
    pub fn is_clean(&self) -> bool {
        self.staged.is_empty()
            && self.unstaged.is_empty()
            && self.untracked.is_empty()
            && self.conflicted.is_empty()
    }
}

/// [`status`] of `repo`'s sandbox `worktree` for a look that changes nothing: `list` and
/// `status` (`Quick`, `Listing`) and `rm --dry-run` (`Full`). A small tree its index vouches
/// for needs no `git status` (`clean.rs`: 4.3 ms of a spawn for 500 files): clean, or clean
/// but for untracked paths no ignore rule could touch (`status` of a sandbox holding two new
/// paths: 3.8 ms instead of 6.7); the dry run's with the ignored files listed and no untracked
/// path. A fresh checkout's index, which a `git status` heals, gets one. A removal itself
/// always asks git ([`status`]).
pub fn status_of_look(repo: &Repo, worktree: &Path, scan: Scan) -> Result<Status> {
    let heal = super::needs_heal(worktree);
    if !heal && let Some(st) = proven_clean(repo, worktree, scan) {
        crate::timings::step(if st.untracked.is_empty() {
            "look: proven clean"
        } else {
            "look: proven, untracked only"
        });
        return Ok(st);
    }
    status_healing(worktree, scan, heal)
}

/// Reads a worktree's status with the git CLI (2x faster than libgit2 on large trees, and it
/// honours the user's untracked cache and fsmonitor). `--no-optional-locks` keeps it read-only
/// (but see `racy.rs`).
pub fn status(worktree: &Path, scan: Scan) -> Result<Status> {
    status_healing(
        worktree,
        scan,
        scan != Scan::Quarantined && super::needs_heal(worktree),
    )
}

/// [`status`], `heal` saying whether the index is a fresh checkout's to heal (`needs_heal`;
/// never a quarantined tree's).
fn status_healing(worktree: &Path, scan: Scan, heal: bool) -> Result<Status> {
    // Read-only. A fresh checkout's racily clean index (`racy.rs`) is pinned first, and healed
    // after if this status found the worktree matching it (`heal.rs`): no lock, no write of it.
    let pin = heal
        .then(|| super::gitfile_target(worktree).and_then(|a| super::heal::Pinned::open(&a)))
        .flatten();
    let out = command(worktree, scan, true)
        .output()
        .context("cannot run git status")?;
    check(&out, "git status")?;
    let st = parse(&out.stdout);
    if let Some(pin) = pin.filter(|_| worktree_matches_index(&st)) {
        pin.settle();
    }
    Ok(st)
}

#[cfg(target_os = "linux")]
use super::clean::proven_clean;

/// Elsewhere, `git status` answers every time.
#[cfg(not(target_os = "linux"))]
fn proven_clean(_: &Repo, _: &Path, _: Scan) -> Option<Status> {
    None
}

/// Whether a status saw no difference between the worktree and the index (untracked files
/// aside): every racily clean entry was checked by content and matched.
pub(super) fn worktree_matches_index(st: &Status) -> bool {
    st.unstaged.is_empty() && st.conflicted.is_empty()
}

/// The `git status` command of one look; `read_only`: `--no-optional-locks`.
fn command(worktree: &Path, scan: Scan, read_only: bool) -> Command {
    // rm's full scan can take seconds on a big tree: it dies with us.
    let mut cmd = match scan {
        Scan::Quick | Scan::Listing => git_cmd(worktree),
        Scan::Full | Scan::Quarantined => git_cmd_guarded(worktree),
    };
    if read_only {
        cmd.arg("--no-optional-locks");
    }
    if scan == Scan::Listing {
        cmd.args(["-c", "core.preloadIndex=false"]);
    }
    if !matches!(scan, Scan::Quick | Scan::Listing) {
        // rm's looks never trust a cache of untracked files (racy.rs): they read the tree.
        // Nor a stat check the user narrowed (`core.trustctime=false`, `core.checkStat=minimal`):
        // an edit of the same size with its mtime put back shows only in the ctime; git then
        // re-reads the file, which costs only where the stat data differ.
        cmd.args(["-c", "core.untrackedCache=false"]).args([
            "-c",
            "core.trustctime=true",
            "-c",
            "core.checkStat=default",
        ]);
    }
    cmd.args(["status", "--porcelain=v2", "--branch", "-z"]);
    cmd.arg(if scan == Scan::Quarantined {
        "--ignore-submodules=all"
    } else {
        "--ignore-submodules=none"
    });
    match scan {
        Scan::Quick | Scan::Listing => cmd.arg("--untracked-files=normal"),
        // `matching` lists an ignored directory once (`node_modules/`), not every file in it.
        Scan::Full | Scan::Quarantined => cmd.args(["--untracked-files=all", "--ignored=matching"]),
    };
    cmd
}

pub(super) fn parse(bytes: &[u8]) -> Status {
    let mut st = Status::default();
    let mut ab = false;
    let mut fields = bytes.split(|b| *b == 0).map(|f| String::from_utf8_lossy(f));
    while let Some(rec) = fields.next() {
        if let Some(h) = rec.strip_prefix("# ") {
            let (key, val) = h.split_once(' ').unwrap_or((h, ""));
            match key {
                "branch.oid" if val != "(initial)" => st.head = Some(val.into()),
                "branch.head" if val != "(detached)" => st.branch = Some(val.into()),
                "branch.upstream" => st.upstream = Some(val.into()),
                "branch.ab" => {
                    ab = true;
                    for part in val.split(' ') {
                        if let Some(a) = part.strip_prefix('+') {
                            st.ahead = a.parse().unwrap_or(0);
                        } else if let Some(b) = part.strip_prefix('-') {
                            st.behind = b.parse().unwrap_or(0);
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        let kind = rec.chars().next();
        match kind {
            Some('1') | Some('2') => {
                let n = if kind == Some('1') { 8 } else { 9 };
                let parts: Vec<&str> = rec.splitn(n + 1, ' ').collect();
                let xy = parts.get(1).copied().unwrap_or("..");
                let path = parts.get(n).copied().unwrap_or("").to_string();
                let mut chars = xy.chars();
                if chars.next().is_some_and(|c| c != '.') {
                    st.staged.push(path.clone());
                }
                if chars.next().is_some_and(|c| c != '.') {
                    st.unstaged.push(path);
                }
                if kind == Some('2') {
                    fields.next(); // the original path of a rename
                }
            }
            Some('u') => {
                let parts: Vec<&str> = rec.splitn(11, ' ').collect();
                st.conflicted
                    .push(parts.get(10).copied().unwrap_or("").to_string());
            }
            Some('?') => st
                .untracked
                .push(rec.get(2..).unwrap_or_default().to_string()),
            Some('!') => st
                .ignored
                .push(rec.get(2..).unwrap_or_default().to_string()),
            _ => {}
        }
    }
    st.upstream_gone = st.upstream.is_some() && !ab;
    st
}

/// How many files the ignored paths hold, and their total size.
pub fn ignored_size(worktree: &Path, ignored: &[String]) -> (u64, u64) {
    ignored.iter().fold((0, 0), |(c, b), p| {
        let (c2, b2) = crate::du::size(&worktree.join(p.trim_end_matches('/')));
        (c + c2, b + b2)
    })
}
