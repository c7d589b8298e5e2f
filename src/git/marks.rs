//! What the post-checkout hook needs to know and cannot derive: which branches it already
//! warned about in a worktree. Everything else it reads from files git keeps (HEAD, the
//! branch's reflog), with no libgit2 open and no spawn: the hook runs on every checkout.
//!
//! Also what `up` already said about a worktree's stack (the lint's "stays shared" lines),
//! so it is said at the first `up` only.
//!
//! The marks live in the worktree's own admin dir (`<common>/worktrees/<id>/git-sandbox-warned`),
//! one branch per line, so they go with the worktree and a checkout never touches the registry.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::gitfile_target;

const MARKS: &str = "git-sandbox-warned";

fn marks_file(worktree: &Path) -> Option<PathBuf> {
    gitfile_target(worktree).map(|admin| admin.join(MARKS))
}

/// Whether the hook already warned about `branch` in this worktree.
pub fn warned(worktree: &Path, branch: &str) -> bool {
    let Some(file) = marks_file(worktree) else {
        return false;
    };
    fs::read_to_string(file).is_ok_and(|s| s.lines().any(|l| l == branch))
}

/// Records that the hook warned about `branch` (an append; no fsync: losing a mark only means
/// one more warning).
pub fn mark_warned(worktree: &Path, branch: &str) -> std::io::Result<()> {
    let Some(file) = marks_file(worktree) else {
        return Ok(());
    };
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    f.write_all(format!("{branch}\n").as_bytes())
}

/// Whether `branch` was only just created and has not moved since (its reflog holds one
/// entry): `git checkout -b` then has nothing to push yet, so the hook stays quiet.
pub fn branch_just_created(worktree: &Path, branch: &str) -> bool {
    let Some(common) = gitfile_target(worktree).and_then(|admin| {
        let c = fs::read_to_string(admin.join("commondir")).ok()?;
        let c = PathBuf::from(c.trim());
        Some(if c.is_absolute() { c } else { admin.join(c) })
    }) else {
        return false;
    };
    let log = common.join("logs/refs/heads").join(branch);
    fs::read_to_string(log).is_ok_and(|s| s.lines().count() <= 1)
}

/// What `up` already said about this worktree's stack (the lint's "shared" lines), said once.
const SAID: &str = "git-sandbox-said";

/// The lines `up` already said in this worktree.
pub fn said(worktree: &Path) -> Vec<String> {
    gitfile_target(worktree)
        .and_then(|admin| fs::read_to_string(admin.join(SAID)).ok())
        .map(|s| s.lines().map(String::from).collect())
        .unwrap_or_default()
}

/// Records lines `up` said (an append; losing it only means saying them again).
pub fn mark_said(worktree: &Path, lines: &[String]) -> std::io::Result<()> {
    let Some(admin) = gitfile_target(worktree) else {
        return Ok(());
    };
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(admin.join(SAID))?;
    let text: String = lines
        .iter()
        .map(|l| format!("{}\n", l.replace('\n', " ")))
        .collect();
    f.write_all(text.as_bytes())
}
