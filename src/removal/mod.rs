//! Removing a sandbox without losing a byte: plan → confirm → quarantine → re-check → act.
//!
//! `rm` (in `commands/rm.rs`) verifies the target, takes the worktree's `index.lock` (held to
//! the end, so a concurrent `git commit` there fails loudly), assesses it ([`crate::safety`]),
//! computes a pure [`plan::Plan`], shows it ([`present`]), and asks. Then [`steps::carry_out`]:
//! 1. `--kill`: stop the processes inside (TERM, then KILL).
//! 2. (services are stopped by the command, through `compose`, before this.)
//! 3. Make the trash directory beside the sandbox and mark the entry `removing` (phase
//!    `marked`): a crash from here on is seen by `prune`.
//! 4. Quarantine: rename the worktree to `<trash>/tree` (atomic; phase `quarantined`). Nothing
//!    can reach it by its old path any more.
//! 5. Re-check the quarantined tree with the same assessment. Anything the confirmed report
//!    did not show (a file written during the prompt, a commit, a new process) moves the tree
//!    back and refuses (exit 3); with `--force` it joins the save. Another worktree, instance
//!    or mount inside refuses even then.
//! 6. Record the trash state from the quarantined tree: `refs/sandbox/trash/<id>/<stamp>`, one
//!    commit holding the HEAD commit, the staged state, the reflog-only commits and the
//!    uncommitted files byte for byte.
//! 7. Keep what git cannot hold in `<trash>/kept` (ignored files that are not disposable, nested
//!    repositories with `--force`, special files, empty directories, odd permissions); a tree
//!    with a process still inside is kept whole. Then the phase becomes `verified`.
//! 8. Move the submodules' git dirs to `<trash>/admin-modules`, then drop that one worktree's
//!    admin entry (never a bare `git worktree prune`).
//! 9. Delete the branch by compare-and-swap, if the plan says so.
//! 10. Drop the registry entry, queue `<trash>/tree` and delete it in the background: never
//!     following a link, never crossing a filesystem or a bind mount, never entering a nested
//!     `.git` (repositories found in disposable directories move to `kept/`).
//!
//! Any failure or crash before the phase is `verified` is rolled back (kept files back into the
//! tree, the tree back in place, the state ref dropped, the entry ready): at once by `rm`, or by
//! `prune` after a crash. After it, `prune` finishes steps 8-10. Every step is safe to run twice.

pub mod plan;
pub mod present;
mod state;
pub mod steps;
pub mod trash;

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::registry::Registry;
use crate::registry::TRASH_PREFIX;

/// Deletes what a removal left to delete: in the background by default, so `rm` returns at
/// once; `GIT_SANDBOX_SWEEP=foreground` waits for it, and `GIT_SANDBOX_SWEEP=prune` leaves it
/// queued for the next `prune` (the benchmark times that sweep).
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

/// Whether `dir` is something a sweep may delete: a quarantined worktree, i.e. `<trash
/// dir>/tree` (or, from an older git-sandbox, a renamed-away worktree named like a trash
/// directory) whose `.git` file still names a linked worktree's entry (`…/worktrees/<name>`).
/// A queue entry a hand-edited registry points anywhere else is refused.
pub fn sweepable(dir: &Path) -> bool {
    let name_of = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(String::from);
    let trash_name = match name_of(dir).as_deref() {
        Some("tree") => dir.parent().and_then(name_of),
        _ => name_of(dir),
    };
    if !trash_name.is_some_and(|n| n.starts_with(TRASH_PREFIX)) {
        return false;
    }
    let Ok(text) = fs::read_to_string(dir.join(".git")) else {
        return false;
    };
    text.trim()
        .strip_prefix("gitdir:")
        .map(|t| Path::new(t.trim()))
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .is_some_and(|n| n == "worktrees")
}

/// Moves each left-behind directory holding a `.git` from `tree/` to `kept/`; returns what
/// is still left (other filesystems, or what could not be moved).
fn keep_left_repos(t: &trash::TrashDir, left: Vec<std::path::PathBuf>) -> Vec<std::path::PathBuf> {
    let tree = t.tree();
    left.into_iter()
        .filter(|p| {
            let Ok(rel) = p.strip_prefix(&tree) else {
                return true;
            };
            let is_repo = fs::symlink_metadata(p.join(".git")).is_ok();
            let rel = rel.to_string_lossy().into_owned();
            !(is_repo && t.keep(std::slice::from_ref(&rel)).is_ok())
        })
        .collect()
}

/// Deletes one queued directory (see [`trash::delete_tree`]) and drops it from the queue.
pub fn sweep_now(reg: &Registry, dir: &Path) -> Result<()> {
    if !sweepable(dir) {
        anyhow::bail!("{} is not a git-sandbox trash directory", dir.display());
    }
    let mut left = trash::delete_tree(dir)?;
    if let Some(parent) = dir.parent().filter(|_| dir.ends_with("tree")) {
        let t = trash::TrashDir::at(parent);
        // Repositories found in disposable directories were not deleted: keep them where
        // `restore` finds them.
        left = keep_left_repos(&t, left);
        if left.is_empty() {
            let _ = trash::delete_tree(dir);
        }
        trash::drop_if_empty(&t);
    }
    reg.update(|d| {
        d.sweep.retain(|p| p != dir);
        Ok(())
    })?;
    if !left.is_empty() {
        let names: Vec<String> = left.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "left in place (another filesystem, or a directory holding a .git): {}",
            names.join(", ")
        );
    }
    Ok(())
}
