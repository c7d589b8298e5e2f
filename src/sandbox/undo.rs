//! Undoing a creation: what `new` (or a crashed `new`, through `prune`) made, newest first.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::git::Repo;
use crate::registry::Registry;

/// What creation has done so far, undone newest first unless disarmed.
pub(super) struct Undo<'a> {
    pub(super) repo: &'a Repo,
    pub(super) reg: &'a Registry,
    pub(super) id: &'a str,
    pub(super) branch: Option<(String, String)>,
    pub(super) worktree: Option<PathBuf>,
}

impl Undo<'_> {
    pub(super) fn disarm(&mut self) {
        self.branch = None;
        self.worktree = None;
        self.id = "";
    }

    pub(super) fn run(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(path) = self.worktree.take()
            && let Err(e) = remove_fresh_worktree(self.repo, self.id, &path)
        {
            errors.push(format!("{e:#}"));
        }
        if let Some((name, oid)) = self.branch.take() {
            match self.repo.branch_checked_out_at(&name) {
                Ok(Some(at)) => errors.push(format!(
                    "kept branch {name}: it is checked out at {}",
                    at.display()
                )),
                _ => {
                    if let Err(e) = self.repo.delete_branch_at(&name, &oid) {
                        errors.push(format!("{e:#}"));
                    }
                }
            }
        }
        if !self.id.is_empty() {
            let id = self.id.to_string();
            if let Err(e) = self.reg.update(|d| {
                d.remove(&id);
                Ok(())
            }) {
                errors.push(format!("{e:#}"));
            }
        }
        errors
    }
}

/// Deletes a worktree this process (or a crashed `new`) just made, after checking it is the
/// linked worktree `id`.
fn remove_fresh_worktree(repo: &Repo, id: &str, path: &Path) -> Result<()> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() || !repo.is_linked(path, id) {
            anyhow::bail!(
                "left {} alone: it is not the worktree git-sandbox made",
                path.display()
            );
        }
        fs::remove_dir_all(path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    repo.drop_admin_entry(id)
}
