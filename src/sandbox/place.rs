//! Where a sandbox may go: `path` (and `local_prod.path`) come from the repository's committed
//! config, so wherever they point is confined, trusted or not. A clone must never be able to
//! check itself out into `~/.config/git` (whose `config` then runs its `core.fsmonitor` on
//! every `git status`), `~/.ssh`, a `.git` directory or another project's tree.
//!
//! The path is judged where it really lands: its longest existing ancestor resolved (every
//! symlink followed), the rest appended. Refused, each with its reason:
//! 1. The repository itself or anything inside it, and its git directory.
//! 2. Anything inside a git directory: a `.git` component, or an ancestor that is one (a bare
//!    repository: `HEAD`, `objects/`, `refs/`).
//! 3. A dot-directory of `$HOME` (`~/.config`, `~/.ssh`, `~/.local`…), or a new one.
//! 4. Another repository's work tree: an ancestor with a `.git` that is not also an ancestor
//!    of this repository (a repo kept inside a bigger one may still put sandboxes beside it).
//! 5. A path that exists (the sandbox's directory is always made new; `create` says so too).
//!
//! Nothing is created or changed here; the check runs before anything is.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use crate::error::UserError;
use crate::git::Repo;

/// Refuses `path` as a sandbox's directory unless it is a new directory in a place a sandbox
/// may go (see the module doc).
pub fn confine(repo: &Repo, path: &Path) -> Result<()> {
    let real = resolve(path);
    let refuse = |why: String| -> anyhow::Error {
        UserError::new(format!(
            "refusing to make a sandbox at {}: {why}",
            path.display()
        ))
        .hint(
            "sandboxes go in a new directory beside the repository; set `path` in .sandbox.toml \
             to something like \"../{repo}--{name}\"",
        )
        .into()
    };
    if real.starts_with(&repo.root) {
        return Err(refuse(format!(
            "it is inside the repository {}",
            repo.root.display()
        )));
    }
    if let Some(git_dir) = inside_git_dir(repo, &real) {
        return Err(refuse(format!(
            "it is inside the git directory {}",
            git_dir.display()
        )));
    }
    if let Some(dot) = home_dot_dir(&real) {
        return Err(refuse(format!(
            "it is inside {}, a dot-directory of your home (configuration, keys, tools' data)",
            dot.display()
        )));
    }
    if let Some(other) = other_work_tree(repo, &real) {
        return Err(refuse(format!(
            "it is inside the work tree of another repository, {}",
            other.display()
        )));
    }
    if fs::symlink_metadata(path).is_ok() {
        // Not a matter of `path`: the directory is there, so free it or go elsewhere.
        return Err(UserError::new(format!(
            "refusing to make a sandbox at {}: it already exists",
            path.display()
        ))
        .hint(format!(
            "move or remove {} (it is no sandbox of this repository), or pick another name",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// `path` as it really lands: its longest existing ancestor with every link resolved, and the
/// rest (which does not exist yet) appended as written.
fn resolve(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = fs::canonicalize(at) {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The git directory `real` lies in: the repository's own, a `.git` component, or an ancestor
/// that is a bare repository.
fn inside_git_dir(repo: &Repo, real: &Path) -> Option<PathBuf> {
    if real.starts_with(&repo.common_dir) {
        return Some(repo.common_dir.clone());
    }
    let mut at = PathBuf::new();
    for c in real.components() {
        at.push(c);
        let is_dot_git = matches!(c, Component::Normal(n) if n == ".git");
        let is_bare =
            at.join("HEAD").is_file() && at.join("objects").is_dir() && at.join("refs").is_dir();
        if is_dot_git || is_bare {
            return Some(at);
        }
    }
    None
}

/// The dot-directory of `$HOME` that `real` is in (or would make).
fn home_dot_dir(real: &Path) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let home = fs::canonicalize(&home).unwrap_or_else(|_| PathBuf::from(home));
    let first = real.strip_prefix(&home).ok()?.components().next()?;
    match first {
        Component::Normal(n) if n.to_string_lossy().starts_with('.') => Some(home.join(n)),
        _ => None,
    }
}

/// The nearest ancestor of `real` holding a `.git` (file or directory) that is not an ancestor
/// of the repository too.
fn other_work_tree(repo: &Repo, real: &Path) -> Option<PathBuf> {
    real.ancestors()
        .skip(1)
        .find(|a| fs::symlink_metadata(a.join(".git")).is_ok())
        .filter(|a| !repo.root.starts_with(a))
        .map(Path::to_path_buf)
}
