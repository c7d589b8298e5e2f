//! Worktree state that `git status` does not show, and the worktree's index lock.
//!
//! - [`IndexLock`]: `rm` holds `<admin>/index.lock` from its first look to its last step, so a
//!   `git commit`, `checkout` or `add` in the sandbox fails loudly ("index.lock: File exists")
//!   instead of making a commit that the removal would strand. The file says it is ours
//!   (`git-sandbox <pid>`), so `prune` clears it, and only it, after a crash.
//! - [`hidden_edits`]: files marked `--assume-unchanged` or `--skip-worktree` whose bytes differ
//!   from the index (libgit2: no spawn; only flagged entries are hashed).
//! - [`reflog_only`]: commits the worktree's HEAD reflog holds that no ref reaches (the CLI:
//!   `rev-list` uses the commit-graph).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::git_cmd;
use crate::error::UserError;

const LOCK_MARK: &str = "git-sandbox ";

/// `<admin>/index.lock`, held by this process; removed on drop unless handed on.
#[derive(Debug)]
pub struct IndexLock {
    path: PathBuf,
    held: bool,
}

impl IndexLock {
    /// Takes the lock of the worktree whose admin dir is `admin`; refuses if git holds it.
    pub fn take(admin: &Path, worktree: &Path) -> Result<IndexLock> {
        let path = admin.join("index.lock");
        // Written whole in a temporary file, then linked into place (fails if the lock exists):
        // a kill can never leave an empty lock nobody can tell is ours.
        let mut tmp = tempfile::Builder::new()
            .prefix(".git-sandbox-lock.")
            .tempfile_in(admin)
            .with_context(|| format!("cannot write in {}", admin.display()))?;
        tmp.write_all(format!("{LOCK_MARK}{}\n", std::process::id()).as_bytes())?;
        match fs::hard_link(tmp.path(), &path) {
            Ok(()) => Ok(IndexLock { path, held: true }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(held_by(&path, worktree))
            }
            Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }

    /// Lets go of the lock (the file is deleted).
    pub fn release(mut self) {
        self.remove();
    }

    /// The admin dir is gone with the lock in it: nothing to delete.
    pub fn dissolve(mut self) {
        self.held = false;
    }

    fn remove(&mut self) {
        if self.held {
            let _ = fs::remove_file(&self.path);
            self.held = false;
        }
    }
}

/// Why the lock at `path` cannot be taken: another or a killed git-sandbox, or git.
fn held_by(path: &Path, worktree: &Path) -> anyhow::Error {
    let holder = fs::read_to_string(path).unwrap_or_default();
    if let Some(pid) = holder
        .strip_prefix(LOCK_MARK)
        .and_then(|p| p.trim().parse::<u32>().ok())
    {
        let left_alone = format!("{} was left alone", worktree.display());
        if crate::procs::alive(pid) {
            return UserError::refused(format!(
                "{left_alone}: another git-sandbox (pid {pid}) is working on it"
            ))
            .hint("wait for it to finish, then try again if it is still there")
            .into();
        }
        return UserError::refused(format!(
            "{left_alone}: a git-sandbox (pid {pid}) that was killed left its lock"
        ))
        .hint("`git sandbox prune` finishes or rolls back what a killed git-sandbox left")
        .into();
    }
    UserError::refused(format!(
        "a git command is running in {} (its index.lock exists), so it was left alone",
        worktree.display()
    ))
    .hint("wait for that command to finish and try again")
    .hint(format!(
        "if no git command is running there, a crashed one left {}: delete it",
        path.display()
    ))
    .into()
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Deletes `<admin>/index.lock` when it is stale: ours (`git-sandbox <pid>`) with that
/// process gone, or, when the caller knows the git-sandbox working on this worktree is gone
/// (`owner_gone`), one that no process has open (git holds its lock open while it writes; a git
/// child killed with git-sandbox leaves it closed). Returns whether it did.
pub fn clear_stale_index_lock(admin: &Path, owner_gone: bool) -> bool {
    let path = admin.join("index.lock");
    let Ok(text) = fs::read(&path) else {
        return false;
    };
    let ours = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.strip_prefix(LOCK_MARK))
        .and_then(|p| p.trim().parse::<u32>().ok());
    let stale = match ours {
        Some(pid) => !crate::procs::alive(pid),
        // git writes the index into its lock while it holds it open: an empty lock no one
        // holds is a leftover (of an older git-sandbox too), whoever made it.
        None if text.is_empty() => !held_open(&path),
        None => owner_gone && !held_open(&path),
    };
    stale && fs::remove_file(&path).is_ok()
}

/// Whether a process still has `lock` open, waiting up to 5 s for it to let go: a git child of
/// a killed git-sandbox is itself being killed by its supervisor, a moment later.
fn held_open(lock: &Path) -> bool {
    let start = std::time::Instant::now();
    while crate::procs::file_open(lock) {
        if start.elapsed() > std::time::Duration::from_secs(5) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// Files flagged `--assume-unchanged` or `--skip-worktree` whose bytes on disk differ from
/// the index (a flagged file missing from disk, as sparse checkouts have, is no edit).
pub fn hidden_edits(worktree: &Path) -> Vec<String> {
    let streamed = super::gitfile_target(worktree)
        .filter(|admin| sha1_only(admin))
        .and_then(|admin| super::index_flags::flagged(&admin.join("index")));
    let Some(flagged) = streamed else {
        return hidden_edits_libgit2(worktree);
    };
    flagged
        .into_iter()
        .filter_map(|e| {
            let id = git2::Oid::from_bytes(&e.oid).ok()?;
            let rel = String::from_utf8_lossy(&e.path).into_owned();
            differs(worktree, &rel, id).then_some(rel)
        })
        .collect()
}

/// Whether the repository of a linked worktree's admin dir surely names objects by SHA-1 (its
/// config does not mention an object format at all).
pub(super) fn sha1_only(admin: &Path) -> bool {
    let common = fs::read_to_string(admin.join("commondir"))
        .map(|c| admin.join(c.trim()))
        .unwrap_or_else(|_| admin.to_path_buf());
    fs::read_to_string(common.join("config"))
        .is_ok_and(|c| !c.to_ascii_lowercase().contains("objectformat"))
}

/// The same through libgit2 (the whole index in memory), for an index the stream reader
/// does not read.
fn hidden_edits_libgit2(worktree: &Path) -> Vec<String> {
    const ASSUME_VALID: u16 = 0x8000;
    const SKIP_WORKTREE: u16 = 0x4000;
    let Ok(repo) = git2::Repository::open(worktree) else {
        return Vec::new();
    };
    let Ok(index) = repo.index() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in index.iter() {
        if e.flags & ASSUME_VALID == 0 && e.flags_extended & SKIP_WORKTREE == 0 {
            continue;
        }
        let rel = String::from_utf8_lossy(&e.path).into_owned();
        if differs(worktree, &rel, e.id) {
            out.push(rel);
        }
    }
    out
}

/// Whether the file at `rel` (present) holds other bytes than the blob `id`.
fn differs(worktree: &Path, rel: &str, id: git2::Oid) -> bool {
    let path = worktree.join(rel);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return false;
    };
    let bytes = if meta.file_type().is_symlink() {
        fs::read_link(&path)
            .map(|t| t.as_os_str().as_encoded_bytes().to_vec())
            .unwrap_or_default()
    } else {
        fs::read(&path).unwrap_or_default()
    };
    git2::Oid::hash_object(git2::ObjectType::Blob, &bytes).ok() != Some(id)
}

/// Commits in the worktree's HEAD reflog (`<admin>/logs/HEAD`) that no branch, tag,
/// remote-tracking ref, saved state or `head` reaches: the tips to keep so they stay reachable.
pub fn reflog_only(repo_root: &Path, admin: &Path, head: Option<&str>) -> Result<Vec<String>> {
    let Ok(log) = fs::read_to_string(admin.join("logs").join("HEAD")) else {
        return Ok(Vec::new());
    };
    let zero = "0".repeat(40);
    let mut oids: Vec<String> = Vec::new();
    for line in log.lines() {
        for oid in line.split(' ').take(2) {
            if oid.len() >= 40 && oid != zero && Some(oid) != head && !oids.iter().any(|o| o == oid)
            {
                oids.push(oid.to_string());
            }
        }
    }
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    // Only commits that still exist (gc may have taken old ones).
    let repo = git2::Repository::open(repo_root)?;
    oids.retain(|o| git2::Oid::from_str(o).is_ok_and(|id| repo.find_commit(id).is_ok()));
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = git_cmd(repo_root);
    cmd.args(["rev-list", "--stdin", "--not"]).args([
        "--branches",
        "--tags",
        "--remotes",
        "--glob=refs/sandbox/*",
    ]);
    if let Some(h) = head {
        cmd.arg(h);
    }
    let out = super::run_with_stdin(cmd, &oids.join("\n"))?;
    let unreachable: Vec<&str> = out.lines().collect();
    Ok(oids
        .into_iter()
        .filter(|o| unreachable.contains(&o.as_str()))
        .collect())
}
