//! Removal steps after `rm` has checked, reported and confirmed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::fault;
use crate::git::{self, Repo};
use crate::registry::{self, Instance, Kind, Registry, Removal, State};

use super::TRASH_PREFIX;

/// The removal plan `rm` decided on.
#[derive(Clone, Debug)]
pub struct RemovePlan {
    /// Save uncommitted work and the branch tip first.
    pub save: bool,
    /// Delete the branch (its name and the tip it must still have).
    pub delete_branch: Option<(String, String)>,
    /// Remove the directory (false for `--keep-worktree`).
    pub remove_worktree: bool,
}

/// What a removal did.
#[derive(Clone, Debug, Default)]
pub struct Removed {
    pub saved_ref: Option<String>,
    pub branch_deleted: bool,
}

/// Removes a verified instance (see the module doc for the steps).
pub fn remove(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    path: &Path,
    plan: &RemovePlan,
) -> Result<Removed> {
    let mut out = Removed::default();
    if plan.save {
        let saved = save(repo, inst, path)?;
        out.saved_ref = Some(saved);
    }
    fault::point("rm:saved")?;
    let trash_dir = trash_path(path)?;
    let removal = Removal {
        trash_dir: trash_dir.clone(),
        delete_branch: plan.delete_branch.as_ref().map(|(_, tip)| tip.clone()),
        saved_ref: out.saved_ref.clone(),
        remove_worktree: plan.remove_worktree,
    };
    reg.update(|d| {
        let e = d
            .find_mut(&inst.id)
            .context("the registry entry vanished during removal")?;
        if e.state != State::Ready {
            anyhow::bail!(
                "{} is already being created or removed by another git-sandbox",
                inst.id
            );
        }
        e.state = State::Removing;
        e.pid = Some(std::process::id());
        e.removal = Some(removal.clone());
        Ok(())
    })?;
    fault::point("rm:marked")?;
    if plan.remove_worktree {
        fs::rename(path, &trash_dir)
            .with_context(|| format!("cannot move {} out of the way", path.display()))?;
        fault::point("rm:moved")?;
    }
    out.branch_deleted = finish(repo, reg, inst, &removal)?;
    Ok(out)
}

/// Steps 4-7 of a removal whose directory has been moved (or is kept).
pub(super) fn finish(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    removal: &Removal,
) -> Result<bool> {
    if removal.remove_worktree {
        repo.drop_admin_entry(inst.admin())?;
        fault::point("rm:admin")?;
    }
    let mut deleted = false;
    if let (Some(tip), Some(branch)) = (&removal.delete_branch, &inst.branch) {
        deleted = repo.delete_branch_at(branch, tip)?;
        fault::point("rm:branch")?;
    }
    reg.update(|d| {
        d.remove(&inst.id);
        if removal.remove_worktree && fs::symlink_metadata(&removal.trash_dir).is_ok() {
            d.sweep.push(removal.trash_dir.clone());
        }
        Ok(())
    })?;
    fault::point("rm:unregistered")?;
    if removal.remove_worktree {
        sweep_later(reg, &removal.trash_dir);
    }
    Ok(deleted)
}

/// Where a worktree directory goes before it is deleted: beside it (same filesystem).
fn trash_path(path: &Path) -> Result<PathBuf> {
    let parent = path
        .parent()
        .context("the sandbox has no parent directory")?;
    let name = path
        .file_name()
        .context("the sandbox path has no name")?
        .to_string_lossy();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(parent.join(format!("{TRASH_PREFIX}{name}.{stamp}")))
}

/// Saves uncommitted work and the branch tip under `refs/sandbox/trash/<id>/<timestamp>`.
pub fn save(repo: &Repo, inst: &Instance, path: &Path) -> Result<String> {
    let when = registry::now();
    let message = format!(
        "git-sandbox: saved {id} before removal\n\n\
         sandbox: {name}\nid: {id}\nkind: {kind}\nbranch: {branch}\ncreated-branch: {created}\nsaved-at: {when}\n\n\
         The tree is the working files (tracked and untracked, not ignored); parent 1 is the\n\
         branch tip, parent 2 the staged state. Bring it back with: git sandbox restore {name}\n",
        id = inst.id,
        name = inst.name,
        kind = if inst.kind == Kind::LocalProd {
            "local-prod"
        } else {
            "sandbox"
        },
        branch = inst.branch.as_deref().unwrap_or(""),
        created = inst.created_branch,
    );
    let snap = git::snapshot(path, &message).map_err(|e| {
        e.context(format!(
            "could not save the work in {}; nothing was removed",
            path.display()
        ))
    })?;
    let stamp: String = when.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let base = format!("refs/sandbox/trash/{}/{stamp}", inst.id);
    let mut name = base.clone();
    let mut n = 1;
    while repo
        .create_ref(&name, &snap.commit, "git-sandbox: save before removal")
        .is_err()
    {
        n += 1;
        if n > 100 {
            anyhow::bail!("could not create {base}; nothing was removed");
        }
        name = format!("{base}-{n}");
    }
    Ok(name)
}

/// Deletes a renamed-away directory: in the background by default, so `rm` returns at once;
/// `GIT_SANDBOX_SWEEP=foreground` waits for it, and `GIT_SANDBOX_SWEEP=prune` leaves it queued
/// for the next `prune` (the benchmark times that sweep).
pub fn sweep_later(reg: &Registry, dir: &Path) {
    let mode = std::env::var_os("GIT_SANDBOX_SWEEP");
    if mode.as_ref().is_some_and(|v| v == "prune") {
        return;
    }
    let foreground = mode.is_some_and(|v| v == "foreground");
    if !foreground && let Ok(exe) = std::env::current_exe() {
        let spawned = std::process::Command::new(exe)
            .arg("__sweep")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return;
        }
    }
    let _ = sweep_now(reg, dir);
}

/// Deletes one queued trash directory and drops it from the queue. Only directories named
/// like ours are ever deleted.
pub fn sweep_now(reg: &Registry, dir: &Path) -> Result<()> {
    let named_ours = dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX));
    if !named_ours {
        anyhow::bail!("{} is not a git-sandbox trash directory", dir.display());
    }
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {
            fs::remove_dir_all(dir).with_context(|| format!("cannot delete {}", dir.display()))?;
        }
        Ok(_) => anyhow::bail!("{} is not a directory; left alone", dir.display()),
        Err(_) => {}
    }
    reg.update(|d| {
        d.sweep.retain(|p| p != dir);
        Ok(())
    })
}
