//! `prune`'s repair of what a crashed `new` or `rm` left half done.

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::git::{self, Repo};
use crate::registry::{Instance, Registry, State};

use super::create::Undo;
use crate::registry::Phase;
use crate::removal::steps::{finish, roll_back};
use crate::removal::trash::TrashDir;

/// Puts an interrupted instance back to `ready`, forgetting the operation.
fn mark_ready(reg: &Registry, id: &str) -> Result<()> {
    reg.update(|d| {
        if let Some(e) = d.find_mut(id) {
            e.state = State::Ready;
            e.pid = None;
            e.removal = None;
            e.restoring = None;
        }
        Ok(())
    })
}

/// What `prune` did or would do with an interrupted operation.
#[derive(Clone, Debug)]
pub enum Repair {
    /// A `new` crashed: everything it made is undone.
    RolledBackCreation(String),
    /// A `new` crashed after the tree held work: the sandbox is kept and marked ready.
    CompletedCreation(String),
    /// An `rm` crashed before moving the directory: the sandbox is back to ready.
    RolledBackRemoval(String),
    /// An `rm` crashed after moving the directory: the removal is finished.
    FinishedRemoval(String),
    /// A `mv` crashed after the directory reached its new path: the rename is finished.
    FinishedMove(String),
    /// A `mv` crashed before the directory moved: the old name and path are back.
    RolledBackMove(String),
}

/// Finishes or rolls back an instance a crashed process left `creating`, `removing` or
/// moving (`mv`).
pub fn repair(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    dry_run: bool,
) -> Result<Option<Repair>> {
    if inst
        .pid
        .is_some_and(|p| p != std::process::id() && crate::procs::alive(p))
    {
        return Ok(None);
    }
    if inst.state != State::Ready && !dry_run {
        // Locks our crashed process held would stop git there for good: clear ours only.
        if let Some(b) = &inst.branch {
            repo.clear_stale_branch_lock(b);
        }
        git::clear_stale_index_lock(&repo.admin_dir(inst.admin()), true);
    }
    if inst.moving.is_some() {
        let id = inst.id.clone();
        return Ok(Some(
            match super::moving::repair_move(repo, reg, inst, dry_run)? {
                super::MoveRepair::Finished => Repair::FinishedMove(id),
                super::MoveRepair::RolledBack => Repair::RolledBackMove(id),
            },
        ));
    }
    match inst.state {
        State::Ready => Ok(None),
        State::Creating => repair_creation(repo, reg, inst, dry_run).map(Some),
        State::Removing => repair_removal(repo, reg, inst, dry_run).map(Some),
    }
}

/// A crashed `new` or `restore`: a restore is finished (its tree may hold restored work), a
/// `new` whose tree holds work is kept, anything else is undone.
fn repair_creation(repo: &Repo, reg: &Registry, inst: &Instance, dry_run: bool) -> Result<Repair> {
    // Wait until no checkout of the crashed `new` runs any more (see lock_worktrees).
    let _settled = repo.lock_worktrees()?;
    let admin = repo.admin_dir(inst.admin());
    let half_made =
        fs::read_to_string(admin.join("locked")).is_ok_and(|s| s.trim() == "initializing");
    let verified = !half_made
        && fs::symlink_metadata(&inst.path).is_ok()
        && crate::target::verify(repo, inst).is_ok();
    if let Some(r) = inst.restoring.as_ref().filter(|_| verified) {
        if !dry_run {
            super::restoring::put_back(reg, &inst.id, &inst.path, r)?;
            mark_ready(reg, &inst.id)?;
        }
        return Ok(Repair::CompletedCreation(inst.id.clone()));
    }
    let holds_work =
        verified && git::status(&inst.path, git::Scan::Full).is_ok_and(|s| !s.is_clean());
    if holds_work {
        if !dry_run {
            mark_ready(reg, &inst.id)?;
        }
        return Ok(Repair::CompletedCreation(inst.id.clone()));
    }
    if !dry_run {
        undo_creation(repo, reg, inst, &admin)?;
    }
    Ok(Repair::RolledBackCreation(inst.id.clone()))
}

fn undo_creation(repo: &Repo, reg: &Registry, inst: &Instance, admin: &Path) -> Result<()> {
    // A crash between `worktree add` into the staging directory and the move leaves the
    // checkout there: git's entry says where.
    let actual = git::admin_target(admin).filter(|p| {
        p.parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n.to_string_lossy().starts_with(".git-sandbox-new."))
    });
    let mut undo = Undo {
        repo,
        reg,
        id: &inst.id,
        branch: None,
        worktree: Some(actual.clone().unwrap_or_else(|| inst.path.clone())),
    };
    if inst.created_branch
        && let (Some(b), Some(base)) = (&inst.branch, &inst.base_commit)
    {
        undo.branch = Some((b.clone(), base.clone()));
    }
    let errors = undo.run();
    if !errors.is_empty() {
        anyhow::bail!("rolling back {} failed: {}", inst.id, errors.join("; "));
    }
    if let Some(staging) = actual.as_deref().and_then(Path::parent) {
        let _ = fs::remove_dir(staging);
    }
    Ok(())
}

/// A crashed `rm`: rolled back before its tree was verified and saved, finished after.
fn repair_removal(repo: &Repo, reg: &Registry, inst: &Instance, dry_run: bool) -> Result<Repair> {
    let Some(removal) = inst.removal.clone() else {
        anyhow::bail!("{} is marked removing but has no plan", inst.id);
    };
    let forward = removal.phase == Phase::Verified && removal.remove_worktree;
    if dry_run {
        return Ok(if forward {
            Repair::FinishedRemoval(inst.id.clone())
        } else {
            Repair::RolledBackRemoval(inst.id.clone())
        });
    }
    if !forward {
        let trash = TrashDir::at(&removal.trash_dir);
        let refname = removal.saved_ref.clone().unwrap_or_default();
        roll_back(repo, reg, inst, &trash, &refname)?;
        return Ok(Repair::RolledBackRemoval(inst.id.clone()));
    }
    finish(repo, reg, inst, &removal)?;
    Ok(Repair::FinishedRemoval(inst.id.clone()))
}
