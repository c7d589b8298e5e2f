//! Whether the hooks directory git uses (`core.hooksPath`) is inside a worktree's tracked
//! tree. A relative `core.hooksPath` (`.githooks`, committed with the project) resolves in each
//! worktree to that worktree's own copy; an absolute one may point into a checkout too.
//! Installing there would edit tracked files (dirtying every sandbox, or the project's commit),
//! so `hooks install` asks here first and refuses with the way to chain git-sandbox instead.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{Repo, git_cmd, run};

/// A hooks directory in tracked files.
#[derive(Debug, Clone)]
pub struct TrackedHooks {
    /// `core.hooksPath` as configured.
    pub configured: String,
    /// The worktree that tracks files there.
    pub worktree: PathBuf,
    /// Some of those files (relative to that worktree).
    pub files: Vec<String>,
}

/// `Some` when the hooks directory `dir` of the worktree at `cwd`, or (for a relative
/// `core.hooksPath`) that path in any worktree of the repo, holds tracked files.
pub fn tracked_hooks(cwd: &Path, dir: &Path) -> Result<Option<TrackedHooks>> {
    let out = git_cmd(cwd)
        .args(["config", "--get", "core.hooksPath"])
        .output()?;
    let configured = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || configured.is_empty() {
        return Ok(None);
    }
    let repo = Repo::discover(cwd)?;
    let worktrees: Vec<PathBuf> = std::iter::once(repo.root.clone())
        .chain(repo.admin_entries().into_iter().filter_map(|(_, t)| t))
        .filter_map(|w| fs::canonicalize(w).ok())
        .collect();
    let mut candidates = vec![canonical_or(dir)];
    if Path::new(&configured).is_relative() {
        candidates.extend(worktrees.iter().map(|w| w.join(&configured)));
    }
    for c in &candidates {
        for w in &worktrees {
            let Ok(rel) = c.strip_prefix(w) else { continue };
            let files = tracked_in(w, rel);
            if !files.is_empty() {
                return Ok(Some(TrackedHooks {
                    configured,
                    worktree: w.clone(),
                    files,
                }));
            }
        }
    }
    Ok(None)
}

/// The path with its existing part canonical (a hooks dir may not exist yet).
fn canonical_or(p: &Path) -> PathBuf {
    if let Ok(c) = fs::canonicalize(p) {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => canonical_or(parent).join(name),
        _ => p.to_path_buf(),
    }
}

/// Up to five files the worktree `w` tracks under `rel` (`""`: the whole tree).
fn tracked_in(w: &Path, rel: &Path) -> Vec<String> {
    let spec = if rel.as_os_str().is_empty() {
        ":(literal).".to_string()
    } else {
        format!(":(literal){}", rel.to_string_lossy())
    };
    let Ok(out) = git_cmd(w).args(["ls-files", "-z", "--", &spec]).output() else {
        return Vec::new();
    };
    out.stdout
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .take(5)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// The directory git runs hooks from for the worktree at `dir` (honours `core.hooksPath`).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let out = run(dir, &["rev-parse", "--git-path", "hooks"])?;
    let p = PathBuf::from(out.trim());
    Ok(if p.is_absolute() { p } else { dir.join(p) })
}
