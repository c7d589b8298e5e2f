//! The tree walk's workers: the directories still to read in one queue, each worker reading
//! one at a time (its entries' stat data into its own [`Stamp`] and [`Found`]), queueing the
//! subdirectories it finds, until none is queued and none is being read.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::SystemTime;

use super::{Found, Stamp};

/// What the walkers share: what to skip, what modes git restores, when the look began.
pub(super) struct Rules {
    pub dev: u64,
    pub skip: Vec<String>,
    pub file_mode: u32,
    pub exec_mode: u32,
    pub since: Option<SystemTime>,
}

/// The directories still to read, shared by the walkers (the walk is the kernel's `lstat` and
/// `getdents` of every entry: on 2 cores, two walkers take ~0.6 of one's time), and how many
/// walkers are reading one (a walker stops when none is queued and none is being read).
pub(super) struct Queue {
    state: Mutex<(Vec<(PathBuf, String)>, usize)>,
    more: Condvar,
}

impl Queue {
    pub fn new(root: PathBuf) -> Queue {
        Queue {
            state: Mutex::new((vec![(root, String::new())], 0)),
            more: Condvar::new(),
        }
    }

    /// The next directory to read, waiting while another walker may still queue some.
    fn take(&self) -> Option<(PathBuf, String)> {
        let mut st = self.state.lock().ok()?;
        loop {
            if let Some(d) = st.0.pop() {
                st.1 += 1;
                return Some(d);
            }
            if st.1 == 0 {
                return None;
            }
            st = self.more.wait(st).ok()?;
        }
    }

    /// A directory read: its subdirectories queued.
    fn done(&self, subdirs: Vec<(PathBuf, String)>) {
        if let Ok(mut st) = self.state.lock() {
            st.0.extend(subdirs);
            st.1 -= 1;
        }
        self.more.notify_all();
    }

    pub fn drained(&self) -> bool {
        self.state
            .lock()
            .is_ok_and(|st| st.0.is_empty() && st.1 == 0)
    }
}

pub(super) struct Walker<'a> {
    rules: &'a Rules,
    stamp: Stamp,
    found: Found,
    subdirs: Vec<(PathBuf, String)>,
}

impl<'a> Walker<'a> {
    pub fn new(rules: &'a Rules) -> Walker<'a> {
        Walker {
            rules,
            stamp: Stamp::default(),
            found: Found::default(),
            subdirs: Vec::new(),
        }
    }

    /// Reads directories until none is left. A directory whose reading failed (a panic) is
    /// reported as unreadable, which keeps the tree, and never leaves the others waiting.
    pub fn run(mut self, queue: &Queue) -> (Stamp, Found) {
        while let Some((dir, rel)) = queue.take() {
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.dir(&dir, &rel);
            }));
            if read.is_err() {
                self.subdirs.clear();
                self.stamp.unsettled = true;
                self.found.unreadable_names.push(rel);
            }
            queue.done(std::mem::take(&mut self.subdirs));
        }
        (self.stamp, self.found)
    }

    fn dir(&mut self, dir: &Path, rel: &str) {
        let Ok(rd) = fs::read_dir(dir) else {
            return;
        };
        let mut any = false;
        // Each entry's relative path, built in one buffer (owned only where it is kept).
        let mut sub = String::new();
        for e in rd.flatten() {
            any = true;
            let raw = e.file_name();
            let Some(name) = raw.to_str() else {
                self.unreadable(rel, &e);
                continue;
            };
            sub.clear();
            if !rel.is_empty() {
                sub.push_str(rel);
                sub.push('/');
            }
            sub.push_str(name);
            // The entry's own stat, relative to its directory (no path walk from the root).
            let Ok(meta) = e.metadata() else {
                continue;
            };
            if rel.is_empty() && sub == ".git" {
                self.stamp
                    .add(sub.as_bytes(), &meta, true, self.rules.since);
                continue;
            }
            self.entry(dir, name, &sub, &meta);
        }
        if !any && !rel.is_empty() {
            self.found.empty_dirs.push(rel.to_string());
        }
    }

    /// An entry whose name is not UTF-8: stamped by its raw bytes, and listed (lossily).
    fn unreadable(&mut self, rel: &str, e: &fs::DirEntry) {
        let raw = e.file_name();
        if let Ok(m) = e.metadata() {
            let rel_raw = [rel.as_bytes(), b"/", raw.as_encoded_bytes()].concat();
            self.stamp.add(&rel_raw, &m, true, self.rules.since);
        }
        let name = raw.to_string_lossy();
        self.found.unreadable_names.push(if rel.is_empty() {
            name.into_owned()
        } else {
            format!("{rel}/{name}")
        });
    }

    /// Entry `name` of directory `dir`, at `rel` from the root.
    fn entry(&mut self, dir: &Path, name: &str, rel: &str, meta: &fs::Metadata) {
        let r = self.rules;
        let skipped = r.skip.iter().any(|s| s == rel);
        self.stamp.add(rel.as_bytes(), meta, !skipped, r.since);
        if skipped {
            return;
        }
        let ft = meta.file_type();
        if ft.is_symlink() {
            return;
        }
        if meta.dev() != r.dev {
            self.found.mounts.push(rel.to_string());
            return;
        }
        let perm = meta.permissions().mode() & 0o7777;
        if ft.is_dir() {
            let path = dir.join(name);
            if let Some(kind) = repo_kind(&path) {
                let rel = rel.to_string();
                match kind {
                    RepoKind::Nested => self.found.nested_repos.push(rel),
                    RepoKind::Worktree => self.found.worktrees.push(rel),
                    RepoKind::Submodule => self.found.submodules.push(rel),
                }
                return;
            }
            if perm != r.exec_mode {
                self.found.odd_modes.push(rel.to_string());
            }
            self.subdirs.push((path, rel.to_string()));
        } else if ft.is_file() {
            let exec = perm & 0o100 != 0;
            let want = if exec { r.exec_mode } else { r.file_mode };
            if perm != want {
                self.found.odd_modes.push(rel.to_string());
            }
        } else if ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device() {
            self.found.specials.push(rel.to_string());
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
