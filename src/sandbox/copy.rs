//! `copy = [...]`: files brought from the main worktree into a new sandbox, never through a
//! symlink.
//!
//! - In the sandbox, every directory on the way to a copied entry must be a real directory:
//!   a tracked `data -> /elsewhere` must not turn `copy = ["data/x"]` into a write outside the
//!   sandbox. Directories are made one level at a time with `mkdir` (which never follows a
//!   link) and files are created with `O_CREAT|O_EXCL` (which fails on a link), so what is
//!   written is always inside the sandbox.
//! - In the main worktree, the pattern is matched only through real directories, so nothing
//!   outside it is read; a matched link is copied as a link, and so are links inside a copied
//!   directory.
//!
//! An entry that would go through a link on either side is skipped, and named in the result.
//!
//! Files are cloned copy-on-write (`FICLONE`) where the filesystem can (btrfs, XFS, bcachefs),
//! so caches like `node_modules` arrive in moments; elsewhere they are copied. The result says
//! how many of each.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::git::Repo;

/// What a copy did.
#[derive(Debug, Default)]
pub struct Copied {
    /// The entries skipped because a symlink is in the way, each with the reason.
    pub skipped: Vec<String>,
    /// Regular files written, and how many of them were cloned copy-on-write.
    pub files: u64,
    pub cloned: u64,
    pub bytes: u64,
}

impl Copied {
    /// One line for the user, when anything was copied.
    pub fn summary(&self) -> Option<String> {
        if self.files == 0 {
            return None;
        }
        let how = if self.cloned == self.files {
            "all copy-on-write".to_string()
        } else if self.cloned == 0 {
            "full copies: this filesystem does not clone files".to_string()
        } else {
            format!("{} copy-on-write", self.cloned)
        };
        Some(format!(
            "copied {} file(s), {} ({how})",
            self.files,
            crate::safety::human_bytes(self.bytes)
        ))
    }
}

/// Copies `copy = [...]` entries (globs allowed) and `.worktreeinclude`'s from the main
/// worktree into the sandbox: those the config holds, which is none until the user trusts
/// them (`config/asks.rs`).
pub fn copy_files(repo: &Repo, cfg: &Config, dest: &Path) -> Result<Copied> {
    let mut copied = Copied::default();
    let skipped = &mut copied.skipped;
    let mut tally = Tally::default();
    let patterns = cfg.copy.iter().map(|p| (p, false));
    for (pattern, ignored_only) in patterns.chain(cfg.worktreeinclude.iter().map(|p| (p, true))) {
        let mut found = glob_rel(&repo.root, pattern);
        if ignored_only {
            // `.worktreeinclude` brings only what git ignores (tracked files are checked out).
            let git = git2::Repository::open(&repo.root).ok();
            found.matches.retain(|rel| {
                git.as_ref()
                    .is_some_and(|g| g.is_path_ignored(rel).unwrap_or(false))
            });
        }
        for link in found.through_links {
            skipped.push(format!(
                "copy: skipped {pattern:?}: {} is a symbolic link in the main worktree",
                link.display()
            ));
        }
        for rel in found.matches {
            if let Err(why) = copy_one(&repo.root, dest, &rel, &mut tally) {
                match why {
                    Skip::Link(at) => skipped.push(format!(
                        "copy: skipped {}: {} is a symbolic link in the sandbox",
                        rel.display(),
                        at.display()
                    )),
                    Skip::Exists => {}
                    Skip::Failed(e) => {
                        return Err(e).with_context(|| {
                            format!("cannot copy {} into the sandbox", rel.display())
                        });
                    }
                }
            }
        }
    }
    (copied.files, copied.cloned, copied.bytes) = (tally.files, tally.cloned, tally.bytes);
    Ok(copied)
}

/// Brings one path (relative to both trees) from the main worktree `root` into `dest` as
/// `copy` does: only through real directories on both sides, never over anything there.
/// `Ok(false)` when the destination exists; `Err` says why it was skipped.
pub fn bring_one(
    root: &Path,
    dest: &Path,
    rel: &Path,
    copied: &mut Copied,
) -> Result<bool, String> {
    let mut so_far = PathBuf::new();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        so_far.push(part);
        match fs::symlink_metadata(root.join(&so_far)) {
            Ok(m) if m.is_dir() => {}
            _ => {
                return Err(format!(
                    "{} is a symbolic link (or not a directory) in the main worktree",
                    so_far.display()
                ));
            }
        }
    }
    let mut tally = Tally::default();
    let is_dir = fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_dir());
    let result = if is_dir {
        whole_dir(root, dest, rel, &mut tally)
    } else {
        copy_one(root, dest, rel, &mut tally)
    };
    copied.files += tally.files;
    copied.cloned += tally.cloned;
    copied.bytes += tally.bytes;
    match result {
        Ok(()) => Ok(true),
        Err(Skip::Exists) => Ok(false),
        Err(Skip::Link(at)) => Err(format!(
            "{} is a symbolic link in the sandbox",
            at.display()
        )),
        Err(Skip::Failed(e)) => Err(e.to_string()),
    }
}

/// A directory brought whole or not at all: copied beside its place under a temporary name,
/// then renamed into it, so a copy that fails half-way (a file it cannot read) leaves nothing.
fn whole_dir(root: &Path, dest: &Path, rel: &Path, tally: &mut Tally) -> Result<(), Skip> {
    let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
        return Err(Skip::Exists);
    };
    let tmp = parent.join(format!(".{}.git-sandbox-bringing", name.to_string_lossy()));
    if fs::symlink_metadata(dest.join(rel)).is_ok() {
        return Err(Skip::Exists);
    }
    let _ = fs::remove_dir_all(dest.join(&tmp));
    let made = copy_one_from(root, rel, dest, &tmp, tally);
    let placed = made.and_then(|()| {
        if fs::symlink_metadata(dest.join(rel)).is_ok() {
            return Err(Skip::Exists);
        }
        fs::rename(dest.join(&tmp), dest.join(rel)).map_err(Skip::from)
    });
    if placed.is_err() {
        let _ = fs::remove_dir_all(dest.join(&tmp));
    }
    placed
}

/// Counts of what [`copy_tree`] wrote.
#[derive(Default)]
struct Tally {
    files: u64,
    cloned: u64,
    bytes: u64,
}

/// Why an entry was not copied.
enum Skip {
    /// This part of the destination (relative to the sandbox) is a link or not a directory.
    Link(PathBuf),
    /// The destination exists already (checked out, or the env file): left as it is.
    Exists,
    Failed(io::Error),
}

impl From<io::Error> for Skip {
    fn from(e: io::Error) -> Skip {
        Skip::Failed(e)
    }
}

/// Copies `root/rel` to `dest/rel`, making the directories on the way without following links.
fn copy_one(root: &Path, dest: &Path, rel: &Path, tally: &mut Tally) -> Result<(), Skip> {
    copy_one_from(root, rel, dest, rel, tally)
}

/// Copies `root/from` to `dest/rel` (see [`copy_one`]).
fn copy_one_from(
    root: &Path,
    from: &Path,
    dest: &Path,
    rel: &Path,
    tally: &mut Tally,
) -> Result<(), Skip> {
    let mut at = dest.to_path_buf();
    let mut so_far = PathBuf::new();
    let parts: Vec<Component> = rel.components().collect();
    let Some((last, dirs)) = parts.split_last() else {
        return Err(Skip::Exists);
    };
    for part in dirs {
        at.push(part);
        so_far.push(part);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Skip::Link(so_far)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&at)?,
            Err(e) => return Err(e.into()),
        }
    }
    at.push(last);
    match fs::symlink_metadata(&at) {
        Ok(m) if m.file_type().is_symlink() => return Err(Skip::Link(rel.to_path_buf())),
        Ok(_) => return Err(Skip::Exists),
        Err(_) => {}
    }
    copy_tree(&root.join(from), &at, tally)?;
    Ok(())
}

/// Copies a file, a link (as a link) or a directory (recursively, links as links), creating
/// every destination entry anew: nothing that exists, link or not, is written through.
fn copy_tree(from: &Path, to: &Path, tally: &mut Tally) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)
    } else if meta.is_dir() {
        fs::create_dir(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()), tally)?;
        }
        fs::set_permissions(to, meta.permissions())
    } else if meta.is_file() {
        let mut src = fs::File::open(from)?;
        let mut dst = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(to)?;
        // A clone shares the blocks until either side writes; else a copy (copy_file_range).
        if rustix::fs::ioctl_ficlone(&dst, &src).is_ok() {
            tally.cloned += 1;
        } else {
            io::copy(&mut src, &mut dst)?;
        }
        tally.files += 1;
        tally.bytes += meta.len();
        dst.set_permissions(meta.permissions())
    } else {
        // Sockets, fifos, devices: nothing to bring along.
        Ok(())
    }
}

/// What a copy pattern matched in the main worktree.
#[derive(Default)]
struct Found {
    matches: Vec<PathBuf>,
    /// Links the pattern would have had to go through.
    through_links: Vec<PathBuf>,
}

/// Paths under `root` matching a `/`-separated pattern whose parts may use `*` and `?`,
/// descending only through real directories.
fn glob_rel(root: &Path, pattern: &str) -> Found {
    let mut out = Found::default();
    let mut found = vec![PathBuf::new()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for base in &found {
            match fs::symlink_metadata(root.join(base)) {
                Ok(m) if m.file_type().is_symlink() => {
                    out.through_links.push(base.clone());
                    continue;
                }
                Ok(m) if m.is_dir() => {}
                _ => continue,
            }
            if part == "**" {
                // Zero or more directories: this one and every real one below (never a link,
                // never a `.git`).
                next.extend(real_dirs_below(root, base));
                continue;
            }
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
    found.dedup();
    out.through_links.sort();
    out.through_links.dedup();
    out.matches = found;
    out
}

/// `base` and every real directory below it (links and `.git` are not entered).
fn real_dirs_below(root: &Path, base: &Path) -> Vec<PathBuf> {
    let mut out = vec![base.to_path_buf()];
    let mut k = 0;
    while k < out.len() {
        let dir = out[k].clone();
        k += 1;
        let Ok(rd) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && e.file_name() != ".git" {
                out.push(dir.join(e.file_name()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bring_one_never_goes_through_a_link_and_never_over_a_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (root, dest, outside) = (
            tmp.path().join("main"),
            tmp.path().join("sandbox"),
            tmp.path().join("outside"),
        );
        for d in [&root, &dest, &outside] {
            fs::create_dir_all(d).expect("mkdir");
        }
        fs::write(outside.join("token.txt"), "secret").expect("write");
        std::os::unix::fs::symlink(&outside, root.join("secrets")).expect("link");
        let mut copied = Copied::default();
        let err = bring_one(&root, &dest, Path::new("secrets/token.txt"), &mut copied);
        assert!(err.is_err_and(|e| e.contains("symbolic link")));
        assert!(!dest.join("secrets").exists());

        fs::create_dir_all(root.join("conf/sub")).expect("mkdir");
        fs::write(root.join("conf/sub/a.conf"), "a").expect("write");
        assert_eq!(
            bring_one(&root, &dest, Path::new("conf"), &mut copied),
            Ok(true)
        );
        assert_eq!(
            fs::read_to_string(dest.join("conf/sub/a.conf"))
                .ok()
                .as_deref(),
            Some("a")
        );
        assert!(!dest.join(".conf.git-sandbox-bringing").exists());
        fs::write(root.join(".env"), "main").expect("write");
        fs::write(dest.join(".env"), "mine").expect("write");
        assert_eq!(
            bring_one(&root, &dest, Path::new(".env"), &mut copied),
            Ok(false)
        );
        assert_eq!(
            fs::read_to_string(dest.join(".env")).ok().as_deref(),
            Some("mine")
        );
    }
}
