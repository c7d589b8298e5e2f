//! The libgit2 repository a [`Repo`] holds open for its read-only questions, and the
//! questions that only read through it.

use std::path::Path;

use anyhow::Result;

use super::{AdminHead, Repo, gitfile_target};

/// One libgit2 repository shared by a [`Repo`]'s read-only questions: every open reads each
/// config file again (~0.3-0.6 ms; `status` asked nine times). Refs and objects are read
/// from disk at each question, so a shared open answers what a fresh one would.
#[derive(Clone, Default)]
pub(super) struct Reader(std::sync::Arc<std::sync::Mutex<Option<git2::Repository>>>);

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

impl Reader {
    /// A reader holding `repo`, opened already.
    pub(super) fn holding(repo: git2::Repository) -> Reader {
        Reader(std::sync::Arc::new(std::sync::Mutex::new(Some(repo))))
    }
}

impl Repo {
    /// `f` on the repository opened once for this value's read-only questions (refs, config,
    /// objects: never a write). While another question holds it (another thread, or `f`
    /// asking again), the asker opens one of its own instead of waiting: never a deadlock.
    pub(crate) fn with_repo<T>(&self, f: impl FnOnce(&git2::Repository) -> Result<T>) -> Result<T> {
        let Ok(mut guard) = self.reader.0.try_lock() else {
            return f(&self.open()?);
        };
        let repo = match guard.take() {
            Some(r) => r,
            None => self.open()?,
        };
        let out = f(&repo);
        *guard = Some(repo);
        out
    }

    /// [`Repo::with_repo`] for a question whose every doubt is `None`.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&git2::Repository) -> Option<T>) -> Option<T> {
        self.with_repo(|r| Ok(f(r))).ok().flatten()
    }

    /// The commit the linked worktree `worktree` has checked out, read from its admin dir's
    /// HEAD and this repository's refs (no second open).
    pub fn worktree_head(&self, worktree: &Path) -> Option<String> {
        match AdminHead::read(&gitfile_target(worktree)?)? {
            AdminHead::Branch(b) => self.read(|r| {
                r.refname_to_id(&format!("refs/heads/{b}"))
                    .ok()
                    .map(|o| o.to_string())
            }),
            AdminHead::Detached(oid) => Some(oid.to_string()),
            AdminHead::Other => None,
        }
    }
}
