//! Which instance a command acts on, and whether its registered path can be trusted.
//!
//! The lesson of the predecessor's destroy disaster: a command never acts on "whatever
//! directory I am in".
//! - With a NAME: the registered sandbox of that name (or that instance id) in the current repo.
//! - Without: the registered sandbox whose worktree contains the current directory; outside
//!   one, an error.
//! - local-prod commands always act on the registered local-prod of the current repo.
//!
//! A registered path is trusted for anything destructive only after [`verify`]: it is a real
//! directory (not a symlink), not the main worktree, its `.git` file points at
//! `<common-dir>/worktrees/<id>`, and that admin dir points back at it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::UserError;
use crate::git::{self, Repo};
use crate::registry::{Data, Instance, Kind};

/// Finds the sandbox a command means.
///
/// The instance's engine (recorded at `up`) is selected for the rest of the run: every docker
/// and compose command after this goes to it, whatever the shell's `DOCKER_HOST` says.
pub fn resolve(repo: &Repo, data: &Data, name: Option<&str>, cwd: &Path) -> Result<Instance> {
    let inst = match name {
        Some(name) => by_name(repo, data, name),
        None => by_cwd(repo, data, cwd),
    }?;
    crate::engine::select_for(&inst);
    Ok(inst)
}

/// The registered instance named `name` (or with id `name`) in this repo.
pub fn by_name(repo: &Repo, data: &Data, name: &str) -> Result<Instance> {
    let slug = crate::names::slugify(name).unwrap_or_default();
    let found = data
        .of_repo(&repo.root)
        .find(|i| i.name == name || i.id == name || (!slug.is_empty() && i.name == slug));
    match found {
        Some(i) => Ok(i.clone()),
        None => {
            let names: Vec<&str> = data
                .of_repo(&repo.root)
                .filter(|i| i.kind == Kind::Sandbox)
                .map(|i| i.name.as_str())
                .collect();
            let mut err = UserError::new(format!(
                "no sandbox named {name:?} in {}",
                repo.root.display()
            ));
            err = if names.is_empty() {
                err.hint(format!(
                    "this repo has no sandboxes; {}",
                    repo.first_sandbox_hint()
                ))
            } else {
                err.hint(format!("its sandboxes are: {}", names.join(", ")))
            };
            Err(err.into())
        }
    }
}

/// The registered instance whose worktree contains `cwd`.
pub fn by_cwd(repo: &Repo, data: &Data, cwd: &Path) -> Result<Instance> {
    let cwd = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let best = data
        .of_repo(&repo.root)
        .filter(|i| cwd.starts_with(&i.path))
        .max_by_key(|i| i.path.components().count());
    match best {
        Some(i) => Ok(i.clone()),
        None => Err(UserError::usage(format!(
            "{} is not inside a sandbox, and no sandbox was named",
            cwd.display()
        ))
        .hint("name the sandbox (`git sandbox list` shows them), or run this from inside one")
        .into()),
    }
}

/// Where in the verified sandbox `root` to stand so as to be where `cwd` is: the same
/// subdirectory of it as `cwd` is of the worktree holding it (the main one or a sandbox of this
/// repo), when the sandbox has that directory; else its root, with the part it lacks.
pub fn same_subdir(
    repo: &Repo,
    data: &Data,
    cwd: &Path,
    root: &Path,
) -> (PathBuf, Option<PathBuf>) {
    let cwd = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let holders = std::iter::once(repo.root.as_path())
        .chain(data.of_repo(&repo.root).map(|i| i.path.as_path()));
    let Some(rel) = holders
        .filter_map(|h| cwd.strip_prefix(h).ok())
        .min_by_key(|rel| rel.components().count())
        .filter(|rel| !rel.as_os_str().is_empty())
    else {
        return (root.to_path_buf(), None);
    };
    // Only plain names below the root: never `..` or a link out of the sandbox.
    let dir = root.join(rel);
    let inside = fs::canonicalize(&dir).is_ok_and(|d| d.starts_with(root) && d.is_dir());
    if inside {
        (dir, None)
    } else {
        (root.to_path_buf(), Some(rel.to_path_buf()))
    }
}

/// Checks that a registered path is the linked worktree `inst.id` of its parent repo, so that
/// acting on it cannot touch anything else. Says what is wrong otherwise.
pub fn verify(repo: &Repo, inst: &Instance) -> Result<PathBuf> {
    let real = real_dir(repo, inst)?;
    links_agree(repo, inst, &real)?;
    Ok(real)
}

/// The refusal of [`verify`]: nothing was changed.
fn refusal(path: &Path, why: String) -> anyhow::Error {
    UserError::new(format!(
        "refusing to act on {}: {why}",
        path.display()
    ))
    .hint("nothing was changed; check the registry entry (`git sandbox status --json`) or run `git sandbox prune`")
    .into()
}

/// The registered path as it is: a real directory (no symlink on the way), neither the main
/// worktree nor inside the git directory.
fn real_dir(repo: &Repo, inst: &Instance) -> Result<PathBuf> {
    let path = &inst.path;
    let refuse = |why: String| refusal(path, why);
    let meta = fs::symlink_metadata(path).map_err(|_| {
        refuse(format!(
            "the directory of sandbox {:?} does not exist",
            inst.name
        ))
    })?;
    if meta.file_type().is_symlink() {
        return Err(refuse(
            "it is a symlink, not the sandbox's directory".into(),
        ));
    }
    if !meta.is_dir() {
        return Err(refuse("it is not a directory".into()));
    }
    let real = fs::canonicalize(path).map_err(|e| refuse(format!("cannot resolve it: {e}")))?;
    if &real != path {
        return Err(refuse(format!(
            "it resolves to {} through a symlink",
            real.display()
        )));
    }
    if real == repo.root || repo.root.starts_with(&real) {
        return Err(refuse("it is the parent repository's main worktree".into()));
    }
    if real.starts_with(&repo.common_dir) {
        return Err(refuse("it is inside the repository's git directory".into()));
    }
    Ok(real)
}

/// The sandbox's `.git` file and git's worktree entry `inst.admin()` name each other.
fn links_agree(repo: &Repo, inst: &Instance, real: &Path) -> Result<()> {
    let refuse = |why: String| refusal(&inst.path, why);
    let admin = repo.admin_dir(inst.admin());
    let admin_real = fs::canonicalize(&admin).map_err(|_| {
        refuse(format!(
            "git has no worktree entry {} for it",
            admin.display()
        ))
    })?;
    let points_to = git::gitfile_target(real)
        .and_then(|p| fs::canonicalize(p).ok())
        .ok_or_else(|| refuse("it has no .git file naming a linked worktree".into()))?;
    if points_to != admin_real {
        return Err(refuse(format!(
            "its .git file points at {}, not at {}",
            points_to.display(),
            admin_real.display()
        )));
    }
    let back = git::admin_target(&admin_real)
        .and_then(|p| fs::canonicalize(p).ok())
        .ok_or_else(|| refuse(format!("{} does not name a worktree", admin.display())))?;
    if back != real {
        return Err(refuse(format!(
            "git's worktree entry {} points at {}, not here",
            admin.display(),
            back.display()
        )));
    }
    Ok(())
}
