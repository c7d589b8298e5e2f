//! A walk of a sandbox's files for what `git status` does not show: nested repositories and
//! worktrees, mount points, special files (FIFOs, sockets, devices), empty directories, and
//! permissions git would not bring back.
//!
//! The walk never follows a link and never enters another filesystem. It skips the root's own
//! `.git` file and the disposable ignored directories (whose contents are deleted, and whose
//! deletion itself never enters a nested `.git` or another filesystem, see
//! [`crate::removal::sweep`]). Mount points are also read from `/proc/self/mountinfo`, because a
//! bind mount of the same filesystem has the same `st_dev`.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What the walk found, as paths relative to the root (`/`-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    /// Directories holding their own `.git` directory (a repository of their own).
    pub nested_repos: Vec<String>,
    /// Directories whose `.git` file names a linked worktree's admin dir (of any repository).
    pub worktrees: Vec<String>,
    /// Populated submodules (a `.git` file naming a `modules/` dir).
    pub submodules: Vec<String>,
    /// Mount points at or under the root.
    pub mounts: Vec<String>,
    /// FIFOs, sockets and device files: git cannot store them.
    pub specials: Vec<String>,
    /// Directories with nothing in them: git cannot store them.
    pub empty_dirs: Vec<String>,
    /// Files and directories whose permissions git would not restore.
    pub odd_modes: Vec<String>,
    /// Names that are not valid UTF-8 (shown lossily): they cannot be saved byte for byte yet.
    pub unreadable_names: Vec<String>,
}

/// Walks `root`, skipping the relative paths in `skip` (directories, `/`-terminated or not).
pub fn walk(root: &Path, skip: &[String]) -> Found {
    let mut found = Found::default();
    let Ok(meta) = fs::symlink_metadata(root) else {
        return found;
    };
    let mask = umask();
    let mut w = Walker {
        dev: meta.dev(),
        skip: skip
            .iter()
            .map(|s| s.trim_end_matches('/').to_string())
            .collect(),
        file_mode: 0o666 & !mask,
        exec_mode: 0o777 & !mask,
        found: &mut found,
    };
    w.dir(root, "");
    found.mounts.extend(mounts_under(root));
    found.mounts.sort();
    found.mounts.dedup();
    found
}

struct Walker<'a> {
    dev: u64,
    skip: Vec<String>,
    file_mode: u32,
    exec_mode: u32,
    found: &'a mut Found,
}

impl Walker<'_> {
    fn dir(&mut self, dir: &Path, rel: &str) {
        let Ok(rd) = fs::read_dir(dir) else {
            return;
        };
        let mut any = false;
        for e in rd.flatten() {
            any = true;
            let raw = e.file_name();
            let name = raw.to_string_lossy().into_owned();
            if raw.to_str().is_none() {
                let shown = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                self.found.unreadable_names.push(shown);
                continue;
            }
            if rel.is_empty() && name == ".git" {
                continue;
            }
            let sub = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            self.entry(&e.path(), sub);
        }
        if !any && !rel.is_empty() {
            self.found.empty_dirs.push(rel.to_string());
        }
    }

    fn entry(&mut self, path: &Path, rel: String) {
        if self.skip.contains(&rel) {
            return;
        }
        let Ok(meta) = fs::symlink_metadata(path) else {
            return;
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return;
        }
        if meta.dev() != self.dev {
            self.found.mounts.push(rel);
            return;
        }
        let perm = meta.permissions().mode() & 0o7777;
        if ft.is_dir() {
            if let Some(kind) = repo_kind(path) {
                match kind {
                    RepoKind::Nested => self.found.nested_repos.push(rel),
                    RepoKind::Worktree => self.found.worktrees.push(rel),
                    RepoKind::Submodule => self.found.submodules.push(rel),
                }
                return;
            }
            if perm != self.exec_mode {
                self.found.odd_modes.push(rel.clone());
            }
            self.dir(path, &rel);
        } else if ft.is_file() {
            let exec = perm & 0o100 != 0;
            let want = if exec { self.exec_mode } else { self.file_mode };
            if perm != want {
                self.found.odd_modes.push(rel);
            }
        } else if ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device() {
            self.found.specials.push(rel);
        }
    }
}

enum RepoKind {
    Nested,
    Worktree,
    Submodule,
}

/// What a directory's own `.git` makes it, if it has one.
fn repo_kind(dir: &Path) -> Option<RepoKind> {
    let dotgit = dir.join(".git");
    let meta = fs::symlink_metadata(&dotgit).ok()?;
    if meta.is_dir() {
        return Some(RepoKind::Nested);
    }
    let text = fs::read_to_string(&dotgit).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim().to_string();
    let parts: Vec<&str> = target.split('/').collect();
    let parent = parts.iter().rev().nth(1).copied().unwrap_or_default();
    if parts.contains(&"modules") && parent != "worktrees" {
        Some(RepoKind::Submodule)
    } else if parent == "worktrees" {
        Some(RepoKind::Worktree)
    } else {
        Some(RepoKind::Nested)
    }
}

/// Mount points at or under `root`, from `/proc/self/mountinfo` (catches bind mounts of the
/// same filesystem), relative to `root` (`.` for the root itself).
pub fn mounts_under(root: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(field) = line.split(' ').nth(4) else {
            continue;
        };
        let point = PathBuf::from(unescape(field));
        if let Ok(rel) = point.strip_prefix(root) {
            let rel = rel.to_string_lossy().into_owned();
            out.push(if rel.is_empty() { ".".into() } else { rel });
        }
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
pub(crate) fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], octal) {
            out.push(
                d.iter()
                    .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
            );
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The process's umask, from `/proc/self/status` (022 when it cannot be read).
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}
