//! Where a worktree's HEAD is: its admin dir's `HEAD` file read as it is (the hooks ask on
//! every checkout: no git2, no spawn), or libgit2's answer where a ref must be resolved.

use std::fs;
use std::path::Path;

use super::gitfile_target;

/// The branch a linked worktree has checked out, read from its admin dir's HEAD (no git2,
/// no spawn: the post-checkout hook runs on every checkout).
pub fn worktree_branch(worktree: &Path) -> Option<String> {
    match AdminHead::read(&gitfile_target(worktree)?)? {
        AdminHead::Branch(b) => Some(b),
        _ => None,
    }
}

/// A linked worktree's HEAD as its admin dir's `HEAD` file says it (no git2, no spawn).
pub enum AdminHead {
    /// `ref: refs/heads/<branch>`.
    Branch(String),
    /// A commit id: detached.
    Detached(git2::Oid),
    /// A symbolic ref outside `refs/heads/`, or anything else.
    Other,
}

impl AdminHead {
    pub fn read(admin: &Path) -> Option<AdminHead> {
        let head = fs::read_to_string(admin.join("HEAD")).ok()?;
        let head = head.trim();
        Some(match head.strip_prefix("ref: ") {
            Some(name) => match name.strip_prefix("refs/heads/") {
                Some(b) => AdminHead::Branch(b.to_string()),
                None => AdminHead::Other,
            },
            None => git2::Oid::from_str(head).map_or(AdminHead::Other, AdminHead::Detached),
        })
    }
}

/// The commit HEAD is at in the worktree containing `dir` (a sandbox, or the main worktree),
/// if that worktree belongs to the repository whose common dir is `common_dir` (a nested
/// repository's HEAD means nothing here). libgit2: no spawn.
pub fn head_at(dir: &Path, common_dir: &Path) -> Option<String> {
    let repo = git2::Repository::discover(dir).ok()?;
    if fs::canonicalize(repo.commondir()).ok()? != common_dir {
        return None;
    }
    let head = repo.head().ok()?;
    head.target().map(|o| o.to_string())
}

/// The commit a worktree's HEAD is at when HEAD is detached (no branch checked out), else
/// `None` (libgit2: no spawn).
pub fn detached_at(worktree: &Path) -> Option<String> {
    let repo = git2::Repository::open(worktree).ok()?;
    if !repo.head_detached().ok()? {
        return None;
    }
    repo.head().ok()?.target().map(|o| o.to_string())
}

/// The commit a worktree's HEAD is at (libgit2: no spawn).
pub fn worktree_head(worktree: &Path) -> Option<String> {
    let repo = git2::Repository::open(worktree).ok()?;
    let head = repo.head().ok()?;
    head.target().map(|o| o.to_string())
}
