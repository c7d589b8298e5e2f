//! Linked worktrees: adding and moving them (the CLI), their admin entries under
//! `$GIT_COMMON_DIR/worktrees/`, locks, and which worktree has a branch checked out.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};

use super::*;

/// The reason in a worktree's `locked` file while `rm` has its tree quarantined.
pub const REMOVING_LOCK: &str = "git-sandbox: removing";

impl Repo {
    /// Which worktree, if any, has branch `name` checked out.
    pub fn branch_checked_out_at(&self, name: &str) -> Result<Option<PathBuf>> {
        let want = format!("ref: refs/heads/{name}");
        let head = |dir: &Path| {
            fs::read_to_string(dir.join("HEAD"))
                .map(|s| s.trim() == want)
                .unwrap_or(false)
        };
        if head(&self.common_dir) {
            return Ok(Some(self.root.clone()));
        }
        for (id, target) in self.admin_entries() {
            if head(&self.admin_dir(&id)) {
                return Ok(Some(target.unwrap_or_else(|| self.admin_dir(&id))));
            }
        }
        Ok(None)
    }

    /// Every linked worktree's admin name and the worktree path its `gitdir` file names.
    pub fn admin_entries(&self) -> Vec<(String, Option<PathBuf>)> {
        let Ok(rd) = fs::read_dir(self.common_dir.join("worktrees")) else {
            return Vec::new();
        };
        let mut out: Vec<_> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| {
                let id = e.file_name().to_string_lossy().into_owned();
                let target = admin_target(&e.path());
                (id, target)
            })
            .collect();
        out.sort();
        out
    }

    /// Takes the per-repo worktree lock (`$GIT_COMMON_DIR/git-sandbox.lock`), waiting for it;
    /// it is held until the returned file is dropped.
    ///
    /// [`Repo::worktree_add`] holds it, and hands it to the supervisor of its git, which keeps
    /// it until git and everything git started are gone, even when git-sandbox was killed. So
    /// `prune`, taking it before it rolls back a crashed `new`, never races a checkout that is
    /// still running.
    pub fn lock_worktrees(&self) -> Result<fs::File> {
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.common_dir.join("git-sandbox.lock"))
            .context("cannot open the repo's git-sandbox lock")?;
        lock.lock()
            .context("cannot lock the repo's git-sandbox lock")?;
        Ok(lock)
    }

    /// `git worktree add <path> <branch>` (the CLI: faster than libgit2, and it runs the
    /// project's hooks, filters and sparse-checkout as the user expects).
    ///
    /// Runs under the per-repo lock ([`Repo::lock_worktrees`]): git reads every other
    /// worktree's admin dir while adding one, and fails on one that a parallel `worktree add`
    /// has made but not yet filled.
    ///
    /// With `progress`, git shows its own progress ("Updating files: 45%") on the terminal.
    /// With `detach`, `branch` is a commit checked out on a detached HEAD.
    pub fn worktree_add(
        &self,
        path: &Path,
        branch: &str,
        detach: bool,
        progress: bool,
    ) -> Result<()> {
        let lock = self.lock_worktrees()?;
        let mut cmd = git_cmd_guarded(&self.root);
        if crate::supervise::is_supervised(&cmd) {
            // The supervisor holds its stdin (git gets /dev/null) until it exits.
            cmd.stdin(Stdio::from(
                lock.try_clone()
                    .context("cannot share the git-sandbox lock")?,
            ));
        }
        // Parallel checkout (measured faster than plain `worktree add`, RESEARCH.md), unless
        // the user chose a setting of their own.
        if self.config_unset("checkout.workers") {
            cmd.args(["-c", "checkout.workers=0"]);
        }
        // git's untracked cache in the new index from its first write (the checkout's own), so
        // the user's first `git status` fills it and later ones skip unchanged directories.
        if self.config_unset("core.untrackedCache") {
            cmd.args(["-c", "core.untrackedCache=true"]);
        }
        cmd.args(["worktree", "add"]);
        if !progress {
            cmd.arg("--quiet");
        }
        if detach {
            cmd.arg("--detach");
        }
        let out = cmd
            .arg(path)
            .arg(branch)
            .stderr(if progress {
                Stdio::inherit()
            } else {
                Stdio::piped()
            })
            .output()?;
        drop(lock);
        check(&out, "git worktree add")
    }

    /// Whether the user's git config leaves `key` unset.
    fn config_unset(&self, key: &str) -> bool {
        self.open()
            .and_then(|r| Ok(r.config()?))
            .is_ok_and(|c| c.get_entry(key).is_err())
    }

    /// `git worktree move` (a rename; the admin name stays).
    pub fn worktree_move(&self, from: &Path, to: &Path) -> Result<()> {
        let out = git_cmd_guarded(&self.root)
            .args(["worktree", "move"])
            .arg(from)
            .arg(to)
            .output()?;
        check(&out, "git worktree move")
    }

    /// `git worktree repair <path>`: points git's admin entry back at a worktree whose
    /// directory moved (the CLI: it is git's own repair, which libgit2 lacks).
    pub fn worktree_repair(&self, path: &Path) -> Result<()> {
        let out = git_cmd_guarded(&self.root)
            .args(["worktree", "repair"])
            .arg(path)
            .output()?;
        check(&out, "git worktree repair")
    }

    /// Removes the admin entry of one linked worktree (what `git worktree prune` does for one
    /// entry; never a bare prune, which would act on every worktree of the repo).
    pub fn drop_admin_entry(&self, id: &str) -> Result<()> {
        let dir = self.admin_dir(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove {}", dir.display())),
        }
    }

    /// Whether `path`'s `.git` file points at the existing admin entry `admin`.
    pub fn is_linked(&self, path: &Path, admin: &str) -> bool {
        let Ok(entry) = fs::canonicalize(self.admin_dir(admin)) else {
            return false;
        };
        gitfile_target(path).and_then(|p| fs::canonicalize(p).ok()) == Some(entry)
    }

    /// Locks the admin entry `id` against git's own cleanup (`git worktree prune`, `gc`,
    /// which drop an entry whose directory is gone) while `rm` has the tree quarantined: the
    /// `locked` file `git worktree lock` writes, with [`REMOVING_LOCK`]. A lock already there
    /// (the user's) is left as it is: it protects the entry just as well.
    pub fn lock_for_removal(&self, id: &str) -> Result<()> {
        let path = self.admin_dir(id).join("locked");
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match file {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(REMOVING_LOCK.as_bytes())
                    .and_then(|()| f.sync_all())
                    .with_context(|| format!("cannot write {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
    }

    /// Removes the lock [`lock_for_removal`](Self::lock_for_removal) wrote, and only that one:
    /// a lock with any other reason is the user's and stays.
    pub fn unlock_after_removal(&self, id: &str) -> Result<()> {
        if self.lock_reason(id).as_deref() != Some(REMOVING_LOCK) {
            return Ok(());
        }
        let path = self.admin_dir(id).join("locked");
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot unlock {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Whether the linked worktree `id` is locked, and why.
    pub fn lock_reason(&self, id: &str) -> Option<String> {
        fs::read_to_string(self.admin_dir(id).join("locked"))
            .ok()
            .map(|r| r.trim().to_string())
    }
}
