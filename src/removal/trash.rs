//! The trash directory of one removal, beside the sandbox (same filesystem, so every move is a
//! rename): `<parent>/.git-sandbox-trash.<id>.<stamp>/`, holding
//! - `tree/`: the quarantined worktree, deleted once the removal is done;
//! - `kept/`: what git's trash state cannot hold, moved out of `tree/` at the same relative
//!   paths: ignored files that are not disposable, nested repositories, special files, empty
//!   directories, and files or directories with permissions git would not restore;
//! - `admin-modules/`: the git dirs of populated submodules (a forced removal only).
//!
//! `restore` moves `kept/` back over the restored tree. Nothing here is deleted automatically
//! but `tree/`; `trash purge` deletes the rest. Deleting never follows a link, never crosses a
//! filesystem boundary and never enters a directory holding a `.git` (it is left in place).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::registry::TRASH_PREFIX;

/// One removal's trash directory.
#[derive(Clone, Debug)]
pub struct TrashDir {
    pub dir: PathBuf,
}

impl TrashDir {
    /// Makes a new, empty trash directory beside `sandbox` for `id`; `stamp` names it, with a
    /// `-n` suffix when that name, or its stamp for `taken`, is in use.
    pub fn create(
        sandbox: &Path,
        id: &str,
        stamp: &str,
        taken: impl Fn(&str) -> bool,
    ) -> Result<TrashDir> {
        let parent = sandbox
            .parent()
            .context("the sandbox has no parent directory")?;
        for n in 1..100 {
            let stamp = if n == 1 {
                stamp.to_string()
            } else {
                format!("{stamp}-{n}")
            };
            if taken(&stamp) {
                continue;
            }
            let dir = parent.join(format!("{TRASH_PREFIX}{id}.{stamp}"));
            match fs::create_dir(&dir) {
                Ok(()) => return Ok(TrashDir { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", dir.display()));
                }
            }
        }
        anyhow::bail!(
            "cannot find a free trash directory name beside {}",
            sandbox.display()
        )
    }

    /// The trash directory a saved state names, only if it is one: a real directory (not a
    /// link) named `<prefix><id>.<stamp>` for the state's own id and stamp, holding nothing but
    /// `tree`, `kept` and `admin-modules`. A saved state's message is not trusted: refs can
    /// arrive from elsewhere (a mirror clone, a `refs/*` fetch).
    pub fn of_state(dir: &Path, id: &str, stamp: &str) -> Option<TrashDir> {
        let name = dir.file_name()?.to_str()?;
        if name != format!("{TRASH_PREFIX}{id}.{stamp}") || !dir.is_absolute() {
            return None;
        }
        let meta = fs::symlink_metadata(dir).ok()?;
        if !meta.is_dir() || meta.file_type().is_symlink() {
            return None;
        }
        let only_ours = fs::read_dir(dir).ok()?.flatten().all(|e| {
            let n = e.file_name();
            (n == "tree" || n == "kept" || n == "admin-modules")
                && e.file_type().is_ok_and(|t| t.is_dir())
        });
        only_ours.then(|| TrashDir::at(dir))
    }

    pub fn at(dir: &Path) -> TrashDir {
        TrashDir {
            dir: dir.to_path_buf(),
        }
    }

    pub fn tree(&self) -> PathBuf {
        self.dir.join("tree")
    }

    pub fn kept(&self) -> PathBuf {
        self.dir.join("kept")
    }

    pub fn admin_modules(&self) -> PathBuf {
        self.dir.join("admin-modules")
    }

    /// The stamp part of the name (after `<prefix><id>.`).
    pub fn stamp(&self, id: &str) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .and_then(|n| {
                n.strip_prefix(&format!("{TRASH_PREFIX}{id}."))
                    .map(String::from)
            })
            .unwrap_or_default()
    }

    /// [`TrashDir::keep`], where an empty path in the list means "keep the whole tree" (a
    /// process was still inside).
    pub fn keep_all_or_some(&self, keep: &[String]) -> Result<()> {
        if keep.iter().any(String::is_empty) {
            let tree = self.tree();
            if fs::symlink_metadata(&tree).is_ok() {
                fs::rename(&tree, self.kept())
                    .with_context(|| format!("cannot keep {}", tree.display()))?;
            }
            return Ok(());
        }
        self.keep(keep)
    }

    /// Populated submodules keep their git dirs under the worktree's admin dir `admin`: move
    /// them along.
    pub fn keep_submodule_gitdirs(&self, admin: &Path) -> Result<()> {
        let modules = admin.join("modules");
        if fs::symlink_metadata(&modules).is_ok() {
            fs::rename(&modules, self.admin_modules())
                .with_context(|| format!("cannot keep {}", modules.display()))?;
        }
        Ok(())
    }

    /// Moves each relative path from `tree/` to `kept/` (parents made as needed). A path
    /// already moved (a crash, then `prune`) is skipped; directory permissions are copied last
    /// (a read-only directory would stop the moves into it).
    pub fn keep(&self, paths: &[String]) -> Result<()> {
        let (tree, kept) = (self.tree(), self.kept());
        let mut modes = Vec::new();
        for rel in paths {
            let from = tree.join(rel);
            let to = kept.join(rel);
            let Ok(meta) = fs::symlink_metadata(&from) else {
                if fs::symlink_metadata(&to).is_ok() {
                    continue; // moved already (a crash, then `prune`)
                }
                anyhow::bail!(
                    "{rel} vanished from {} before it could be kept",
                    tree.display()
                );
            };
            if let Some(p) = to.parent() {
                fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
            }
            if meta.is_dir() && fs::symlink_metadata(&to).is_ok() {
                // A directory kept only for its permissions, whose children were moved already.
                modes.push((to, meta.permissions().mode()));
                continue;
            }
            fs::rename(&from, &to)
                .with_context(|| format!("cannot keep {} in {}", rel, kept.display()))?;
        }
        for (dir, mode) in modes {
            let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(mode));
        }
        Ok(())
    }

    /// Files and bytes kept.
    pub fn kept_size(&self) -> (u64, u64) {
        size(&self.kept())
    }
}

/// Puts kept paths back over a restored tree: what is missing is moved in, directories are
/// merged, a kept file replaces the restored one (it has the right permissions), and each
/// kept directory's permissions are applied after its children. `kept` ends up empty.
pub fn overlay(kept: &Path, dest: &Path) -> Result<()> {
    overlay_dir(kept, dest, true)
}

fn overlay_dir(kept: &Path, dest: &Path, top: bool) -> Result<()> {
    let Ok(rd) = fs::read_dir(kept) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let from = e.path();
        let to = dest.join(e.file_name());
        if top && e.file_name() == ".git" {
            // A tree kept whole brings its old `.git` link: the new worktree's own stays.
            fs::remove_file(&from)?;
            continue;
        }
        let meta = fs::symlink_metadata(&from)?;
        match fs::symlink_metadata(&to) {
            Err(_) => fs::rename(&from, &to)
                .with_context(|| format!("cannot put back {}", to.display()))?,
            Ok(m) if meta.is_dir() && m.is_dir() && !m.file_type().is_symlink() => {
                overlay_dir(&from, &to, false)?;
                fs::set_permissions(&to, meta.permissions())?;
                fs::remove_dir(&from)?;
            }
            Ok(m) => {
                if m.is_dir() && !m.file_type().is_symlink() {
                    fs::remove_dir_all(&to)?;
                } else {
                    fs::remove_file(&to)?;
                }
                fs::rename(&from, &to)
                    .with_context(|| format!("cannot put back {}", to.display()))?;
            }
        }
    }
    Ok(())
}

/// Deletes `dir` and everything under it that lies on its filesystem, is not reached through
/// a link, and is not a directory holding a `.git` (other than `dir`'s own). Returns the
/// paths left in place.
pub fn delete_tree(dir: &Path) -> Result<Vec<PathBuf>> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if meta.file_type().is_symlink() || !meta.is_dir() {
        anyhow::bail!("{} is not a directory; left alone", dir.display());
    }
    let mut left = Vec::new();
    // A bind mount of the same filesystem has the same `st_dev`: mountinfo names it.
    let rels = crate::safety::scan::mounts_under(dir);
    if rels.iter().any(|r| r == ".") {
        anyhow::bail!("{} is a mount point; left alone", dir.display());
    }
    let mounts: Vec<PathBuf> = rels.into_iter().map(|rel| dir.join(rel)).collect();
    let guard = Guard {
        dev: meta.dev(),
        mounts: &mounts,
    };
    delete_inside(dir, &guard, true, &mut left)?;
    if left.is_empty() {
        fs::remove_dir(dir).with_context(|| format!("cannot delete {}", dir.display()))?;
    }
    Ok(left)
}

/// What deleting must not cross.
struct Guard<'a> {
    dev: u64,
    mounts: &'a [PathBuf],
}

fn delete_inside(dir: &Path, g: &Guard, top: bool, left: &mut Vec<PathBuf>) -> Result<()> {
    let before = left.len();
    // The top's own `.git` file goes last: while it is there, an interrupted sweep can still
    // prove the tree is the quarantined worktree it was asked to delete.
    let mut entries: Vec<_> = fs::read_dir(dir)?.flatten().map(|e| e.path()).collect();
    entries.sort_by_key(|p| top && p.file_name().is_some_and(|n| n == ".git"));
    for p in entries {
        let Ok(m) = fs::symlink_metadata(&p) else {
            continue;
        };
        if m.dev() != g.dev || g.mounts.contains(&p) {
            left.push(p);
        } else if m.is_dir() && !m.file_type().is_symlink() {
            if !top && fs::symlink_metadata(p.join(".git")).is_ok() {
                left.push(p);
                continue;
            }
            // Make sure we may delete what is inside (a read-only directory).
            if m.permissions().mode() & 0o700 != 0o700 {
                let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o700));
            }
            delete_inside(&p, g, false, left)?;
        } else {
            fs::remove_file(&p).with_context(|| format!("cannot delete {}", p.display()))?;
        }
    }
    if !top && left.len() == before {
        fs::remove_dir(dir).with_context(|| format!("cannot delete {}", dir.display()))?;
    }
    Ok(())
}

pub use crate::du::size;

/// Deletes a verified trash directory's parts (see [`delete_tree`]) and then the directory.
/// Returns the paths left in place.
pub fn purge(t: &TrashDir) -> Result<Vec<PathBuf>> {
    let mut left = Vec::new();
    for part in [t.tree(), t.kept(), t.admin_modules()] {
        if fs::symlink_metadata(&part).is_ok() {
            left.extend(delete_tree(&part)?);
        }
    }
    drop_if_empty(t);
    Ok(left)
}

/// Removes the trash directory if nothing is left in it.
pub fn drop_if_empty(t: &TrashDir) {
    let _ = fs::remove_dir(t.kept());
    let _ = fs::remove_dir(t.admin_modules());
    let _ = fs::remove_dir(&t.dir);
}
