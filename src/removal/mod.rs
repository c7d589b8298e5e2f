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
//!    uncommitted files byte for byte (phase `verified`).
//! 7. Keep what git cannot hold in `<trash>/kept` (ignored files that are not disposable, nested
//!    repositories with `--force`, special files, empty directories, odd permissions) and the
//!    submodules' git dirs in `<trash>/admin-modules`.
//! 8. Drop that one worktree's admin entry (never a bare `git worktree prune`).
//! 9. Delete the branch by compare-and-swap, if the plan says so.
//! 10. Drop the registry entry, queue `<trash>/tree` and delete it in the background: never
//!     following a link, never crossing a filesystem, never entering a nested `.git`.
//!
//! A crash before step 6 is rolled back by `prune` (the tree goes back); after it, `prune`
//! finishes steps 7-10. Every step is safe to run twice.

pub mod plan;
pub mod present;
pub mod steps;
pub mod trash;

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::registry::Registry;
use crate::sandbox::TRASH_PREFIX;

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

/// Whether `dir` is something a sweep may delete: `<trash dir>/tree`, or (from an older
/// git-sandbox) a renamed-away worktree named like a trash directory.
pub fn sweepable(dir: &Path) -> bool {
    let ours = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX))
    };
    (dir.file_name().is_some_and(|n| n == "tree") && dir.parent().is_some_and(ours)) || ours(dir)
}

/// Deletes one queued directory (see [`trash::delete_tree`]) and drops it from the queue.
pub fn sweep_now(reg: &Registry, dir: &Path) -> Result<()> {
    if !sweepable(dir) {
        anyhow::bail!("{} is not a git-sandbox trash directory", dir.display());
    }
    let left = trash::delete_tree(dir)?;
    if let Some(parent) = dir.parent().filter(|_| dir.ends_with("tree")) {
        trash::drop_if_empty(&trash::TrashDir::at(parent));
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
    let _ = fs::metadata(dir);
    Ok(())
}
