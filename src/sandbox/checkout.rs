//! Step 3 of creation: `git worktree add` under the instance id's admin name, and removing
//! whatever git made when that fails.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::fault;
use crate::git::{self, Repo};

use super::create::CreateSpec;

/// `git worktree add`, then makes sure the admin name is the instance id: git names it after
/// the directory, so a path whose last part differs is created under a staging directory with
/// the right name and moved into place. On failure nothing it made is left behind.
pub(super) fn add_worktree(repo: &Repo, spec: &CreateSpec) -> Result<()> {
    let (path, id) = (spec.path.as_path(), spec.id.as_str());
    let head = Head::of(spec)?;
    let branch = &head;
    if path.file_name().is_some_and(|n| n == id) {
        return add_checked(repo, path, id, branch, spec.progress);
    }
    let parent = path
        .parent()
        .context("the sandbox path has no parent directory")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".git-sandbox-new.")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let temp = staging.path().join(id);
    add_checked(repo, &temp, id, branch, spec.progress)?;
    let moved = fault::point("new:staged")
        .and_then(|()| repo.worktree_move(&temp, path))
        .and_then(|()| {
            if repo.is_linked(path, id) {
                Ok(())
            } else {
                bail!("git did not move the worktree {id} to {}", path.display())
            }
        });
    if let Err(e) = moved {
        let mut undo = discard_added(repo, &temp, branch);
        if fs::symlink_metadata(path).is_ok() {
            undo = undo.and(discard_added(repo, path, branch));
        }
        return Err(with_undo(e, undo));
    }
    Ok(())
}

/// What the new worktree's HEAD is: a branch, or (restoring a detached HEAD) a commit.
pub(super) enum Head {
    Branch(String),
    Detached(String),
}

impl Head {
    fn of(spec: &CreateSpec) -> Result<Head> {
        if !spec.detach {
            return Ok(Head::Branch(spec.branch.clone()));
        }
        match &spec.start {
            Some(commit) => Ok(Head::Detached(commit.clone())),
            None => bail!("a detached checkout needs a commit"),
        }
    }

    /// The `HEAD` file git writes for it.
    fn file(&self) -> String {
        match self {
            Head::Branch(b) => format!("ref: refs/heads/{b}"),
            Head::Detached(c) => c.clone(),
        }
    }
}

/// `git worktree add path branch`, and a check that git named the admin entry `id`. A failure
/// after git made the worktree (a failing `post-checkout` hook of the project makes git exit
/// non-zero but keeps it; a name git rewrote) removes it again.
fn add_checked(repo: &Repo, path: &Path, id: &str, branch: &Head, progress: bool) -> Result<()> {
    let added = match branch {
        Head::Branch(b) => repo.worktree_add(path, b, false, progress),
        Head::Detached(c) => repo.worktree_add(path, c, true, progress),
    };
    let added = added
        .and_then(|()| fault::point("new:added"))
        .and_then(|()| {
            if repo.is_linked(path, id) {
                Ok(())
            } else {
                bail!("git did not name the worktree entry {id} as expected")
            }
        });
    match added {
        Ok(()) => Ok(()),
        Err(e) => Err(with_undo(e, discard_added(repo, path, branch))),
    }
}

/// Adds a failed clean-up to an error.
fn with_undo(e: anyhow::Error, undo: Result<()>) -> anyhow::Error {
    match undo {
        Ok(()) => e,
        Err(u) => e.context(format!("and cleaning up after it failed: {u:#}")),
    }
}

/// Removes the worktree `git worktree add` just made at `path`, whatever admin name git gave
/// it: only a linked worktree of this repo whose admin entry points back at `path` and has
/// `branch` checked out (no other worktree can have it: `precheck` made sure), so nothing of
/// anyone else's is touched. Nothing at `path` is fine.
fn discard_added(repo: &Repo, path: &Path, branch: &Head) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    let ours = || -> Option<String> {
        if !meta.is_dir() {
            return None;
        }
        let admin = fs::canonicalize(git::gitfile_target(path)?).ok()?;
        let name = admin.file_name()?.to_str()?.to_string();
        let in_repo = fs::canonicalize(repo.admin_dir(&name)).ok()? == admin;
        let back = fs::canonicalize(git::admin_target(&admin)?).ok()?;
        let head = fs::read_to_string(admin.join("HEAD")).ok()?;
        let on_branch = head.trim() == branch.file();
        (in_repo && on_branch && back == fs::canonicalize(path).ok()?).then_some(name)
    };
    let Some(name) = ours() else {
        bail!(
            "left {} alone: it is not the worktree git-sandbox made",
            path.display()
        );
    };
    fs::remove_dir_all(path).with_context(|| format!("cannot remove {}", path.display()))?;
    repo.drop_admin_entry(&name)
}
