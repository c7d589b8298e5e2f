//! `adopt`: registering a linked worktree made by hand.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::env;
use crate::error::UserError;
use crate::git::{self, Repo};
use crate::registry::{Kind, Registry, State};

use super::create::Created;
use super::reserve::{creating_entry, reserve};

/// Registers a linked worktree made by hand: gives it a slot and an env file. Nothing of the
/// worktree changes but the env file, which is refused if a file of that name is already there
/// and is not one git-sandbox wrote.
pub fn adopt(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    path: &Path,
    name: &str,
) -> Result<Created> {
    let path = real_dir(repo, path)?;
    let admin = linked_admin(repo, &path)?;
    let env_path = env_file_free(cfg, &path)?;
    let id = super::free_id(repo, &reg.load()?, name);
    // Never `creating`: prune rolls those back, and this worktree is the user's. The env file
    // is written under the registry lock, before the entry is recorded, as ready.
    let mut entry = creating_entry(
        repo,
        &id,
        name,
        Kind::Sandbox,
        &path,
        git::worktree_branch(&path),
        false,
        git::worktree_head(&path),
        (admin != id).then(|| admin.clone()),
    );
    entry.state = State::Ready;
    entry.pid = None;
    entry.made_by = Some(crate::registry::MadeBy::Adopt);
    let mut warnings = Vec::new();
    let (_, skipped) = reserve(repo, cfg, reg, entry, |e| {
        env::write(&env_path, &env::vars(cfg, e)?)?;
        warnings.extend(crate::context::refresh(cfg, e, &path));
        Ok(())
    })?;
    let instance = reg
        .load()?
        .find(&id)
        .cloned()
        .context("the registry entry vanished")?;
    Ok(Created {
        instance,
        skipped,
        warnings,
    })
}

/// The canonical path of a real directory (not a link) that is not the main worktree.
fn real_dir(repo: &Repo, path: &Path) -> Result<PathBuf> {
    let meta = fs::symlink_metadata(path)
        .map_err(|_| UserError::new(format!("{} does not exist", path.display())))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(UserError::new(format!("{} is not a directory", path.display())).into());
    }
    let path = git::canonical(path)?;
    if path == repo.root {
        return Err(
            UserError::new("the main worktree cannot be adopted; it is the parent repo").into(),
        );
    }
    Ok(path)
}

/// The admin name of the linked worktree at `path`, checked both ways: its `.git` file names
/// an entry of this repo, and that entry points back at `path`.
fn linked_admin(repo: &Repo, path: &Path) -> Result<String> {
    let admin_dir = git::gitfile_target(path)
        .and_then(|p| fs::canonicalize(p).ok())
        .ok_or_else(|| {
            UserError::new(format!(
                "{} is not a linked worktree (no .git file)",
                path.display()
            ))
            .hint("make one with `git worktree add`, or use `git sandbox new`")
        })?;
    let worktrees = git::canonical(&repo.common_dir.join("worktrees"))?;
    if admin_dir.parent() != Some(worktrees.as_path()) {
        return Err(UserError::new(format!(
            "{} is a worktree of another repository",
            path.display()
        ))
        .into());
    }
    if git::admin_target(&admin_dir)
        .and_then(|p| fs::canonicalize(p).ok())
        .as_deref()
        != Some(path)
    {
        return Err(UserError::new(format!(
            "git's entry {} does not point back at {}",
            admin_dir.display(),
            path.display()
        ))
        .hint("run `git worktree repair` first")
        .into());
    }
    admin_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the worktree entry has no name")
}

/// Where the env file goes, refusing a file of that name git-sandbox did not write.
fn env_file_free(cfg: &Config, path: &Path) -> Result<PathBuf> {
    let env_path = path.join(&cfg.env_file);
    // By its mark (`env::ours`): a link, a directory or a file without it is not ours.
    if fs::symlink_metadata(&env_path).is_ok() && !crate::env::ours(&env_path) {
        return Err(UserError::new(format!(
            "{} already exists and git-sandbox did not write it",
            env_path.display()
        ))
        .hint("move it aside, or set env_file in .sandbox.toml")
        .into());
    }
    Ok(env_path)
}
