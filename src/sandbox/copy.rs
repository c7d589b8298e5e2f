//! `copy = [...]`: files brought from the main worktree into a new sandbox.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::git::Repo;

/// Copies `copy = [...]` entries (globs allowed) from the main worktree into the sandbox.
pub(super) fn copy_files(repo: &Repo, cfg: &Config, dest: &Path) -> Result<()> {
    for pattern in &cfg.copy {
        for rel in glob_rel(&repo.root, pattern) {
            let from = repo.root.join(&rel);
            let to = dest.join(&rel);
            if fs::symlink_metadata(&to).is_ok() {
                continue;
            }
            if let Some(p) = to.parent() {
                fs::create_dir_all(p)?;
            }
            copy_tree(&from, &to)
                .with_context(|| format!("cannot copy {} into the sandbox", rel.display()))?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir_all(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
    } else if meta.file_type().is_symlink() {
        let target = fs::read_link(from)?;
        std::os::unix::fs::symlink(target, to)?;
    } else {
        fs::copy(from, to)?;
    }
    Ok(())
}

/// Paths under `root` matching a `/`-separated pattern whose parts may use `*` and `?`.
fn glob_rel(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for base in &found {
            if !part.contains(['*', '?']) {
                let p = base.join(part);
                if fs::symlink_metadata(root.join(&p)).is_ok() {
                    next.push(p);
                }
                continue;
            }
            if let Ok(rd) = fs::read_dir(root.join(base)) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name != ".git" && crate::names::wildcard(part, &name) {
                        next.push(base.join(name));
                    }
                }
            }
        }
        found = next;
    }
    found.retain(|p| !p.as_os_str().is_empty());
    found.sort();
    found
}
