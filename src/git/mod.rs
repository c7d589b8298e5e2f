//! The one door to git: only this module uses git2 or spawns `git`.
//!
//! The rest of the tool asks questions in its own words ("what would be lost?", "is this tip
//! pushed?"). Each operation uses whichever of libgit2 and the git CLI is faster or more correct
//! (../shared/RESEARCH.md):
//! - libgit2 for small reads and ref edits: discovering the repo, resolving revisions, creating
//!   and deleting branches, reading HEADs and the worktree admin files. No process spawn.
//! - the git CLI for `worktree add` (libgit2 is ~1.8x slower, skips hooks, filters and
//!   sparse-checkout, and leaves debris on failure), for `status` (2x faster on large trees,
//!   honours the untracked cache and fsmonitor). Reachability walks git's commit-graph file
//!   in-process (`graph.rs`), else asks the CLI (`rev-list --not --remotes`, `merge-base`);
//!   never a libgit2 revwalk, which takes seconds on old branches.
//!
//! Every spawned git has the `GIT_DIR`-family variables removed, because git exports them to
//! hooks and they would point our git at the wrong repository. Those that run long or write
//! (`worktree add`/`move`, the snapshot commands, `rm`'s full `status`) run under a supervisor
//! ([`git_cmd_guarded`], `supervise.rs`), so that they and their own children die with
//! git-sandbox. Quick reads (`rev-parse`, `rev-list --count`, `list`'s status) run directly: an
//! orphaned read changes nothing, and `list` would pay a start-up per sandbox.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::error::UserError;

mod branch_config;
#[cfg(target_os = "linux")]
mod clean;
mod fetch;
mod graph;
mod head;
mod heal;
mod hooks_path;
mod ignored;
mod index_flags;
mod index_state;
mod integrated;
mod marks;
mod operation;
mod provenance;
mod racy;
mod reach;
mod reader;
mod remotes;
mod settings;
mod snapshot;
mod spawn;
mod state;
mod status;
mod worktree;

pub use head::{AdminHead, detached_at, head_at, worktree_branch, worktree_head};
pub use heal::{
    HELPER_ARG as HEAL_HELPER_ARG, heal_later, run_helper as run_heal_helper,
    stop_helper as stop_heal_helper,
};
pub use hooks_path::{TrackedHooks, hooks_dir, tracked_hooks};
pub use ignored::ignored;
pub use integrated::{DefaultBranch, Subject, Verdict};
pub use marks::{branch_just_created, mark_said, mark_warned, said, warned};
pub use operation::in_progress as operation_in_progress;
pub use racy::{enable_untracked_cache, needs_heal};
pub use reach::prefetch_graph;
pub use remotes::branch_on_remote;
pub use settings::{config_files, xdg_config};
pub use snapshot::{apply_snapshot, snapshot, snapshot_of_clean};
pub use spawn::{
    check, git_cmd, git_cmd_guarded, run, run_guarded, run_with_stdin, without_git_env,
};
pub use state::{IndexLock, clear_stale_index_lock, hidden_edits, reflog_only};
pub use status::{Scan, Status, ignored_size, status, status_of_look};
pub use worktree::REMOVING_LOCK;

/// The repository a command runs in.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The main worktree's root (canonical).
    pub root: PathBuf,
    /// `$GIT_COMMON_DIR` (canonical).
    pub common_dir: PathBuf,
    /// The main worktree's directory name (the `{repo}` of path templates; its plain form
    /// starts instance ids, see [`Repo::instance_id`]).
    pub name: String,
    /// The repository opened once for this value's read-only questions ([`Repo::read`]).
    reader: reader::Reader,
}

/// Why no repository was found at `dir`: none, or one in a format libgit2 cannot read yet
/// (reftable refs, SHA-256 objects), which git itself finds: asked only on this error path.
fn not_found(dir: &Path, e: &git2::Error) -> anyhow::Error {
    let found_by_git = git_cmd(dir)
        .args(["rev-parse", "--show-object-format", "--show-ref-format"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", ")
        });
    match found_by_git {
        Some(format) => UserError::new(format!(
            "{} is in a git repository git-sandbox cannot read yet (its format: {format}; {})",
            dir.display(),
            e.message()
        ))
        .hint("git-sandbox reads SHA-1 repositories with files refs; this one would need a clone in that format (git clone --ref-format=files, without --object-format=sha256)")
        .into(),
        None => UserError::new(format!("{} is not inside a git repository", dir.display()))
            .hint("run git sandbox from inside your repository, or pass -C <repo>")
            .into(),
    }
}

impl Repo {
    /// Finds the repository containing `dir` (from any of its worktrees).
    pub fn discover(dir: &Path) -> Result<Repo> {
        let repo = git2::Repository::discover(dir).map_err(|e| not_found(dir, &e))?;
        let common_dir = canonical(repo.commondir())?;
        // Found from the main worktree, the repository is the main one already (one open of
        // every config file less).
        let main = if fs::canonicalize(repo.path()).ok().as_deref() == Some(common_dir.as_path()) {
            repo
        } else {
            git2::Repository::open(&common_dir)
                .with_context(|| format!("cannot open {}", common_dir.display()))?
        };
        if main.is_bare() {
            return Err(UserError::new(format!(
                "{} is a bare repository; sandboxes need a main worktree",
                common_dir.display()
            ))
            .hint(format!(
                "run git sandbox in a clone that has a working tree: `git clone \"{}\" DIR`, then `cd DIR`",
                common_dir.display()
            ))
            .into());
        }
        let root = match main.workdir() {
            Some(w) => canonical(w)?,
            None => common_dir
                .parent()
                .map(Path::to_path_buf)
                .ok_or_else(|| anyhow!("cannot find the main worktree"))?,
        };
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("the repository at {} has no name", root.display()))?;
        Ok(Repo {
            root,
            common_dir,
            name,
            reader: reader::Reader::holding(main),
        })
    }

    /// The id of this repo's instance `slug`: `<repo>--<slug>`, with the directory name in its
    /// plain form ([`crate::names::id_part`]), so the id is also a valid git admin name, ref
    /// component and (lower-cased) compose project name.
    pub fn instance_id(&self, slug: &str) -> String {
        format!("{}--{slug}", crate::names::id_part(&self.name))
    }

    fn open(&self) -> Result<git2::Repository> {
        git2::Repository::open(&self.root)
            .with_context(|| format!("cannot open the repository {}", self.root.display()))
    }

    /// The admin dir git keeps for the linked worktree `id`.
    pub fn admin_dir(&self, id: &str) -> PathBuf {
        self.common_dir.join("worktrees").join(id)
    }

    /// How to make the first sandbox: `git sandbox new <name>`, or with no commit yet (a fresh
    /// `git init`, where `new` cannot work), to make a first commit before.
    pub fn first_sandbox_hint(&self) -> &'static str {
        let empty = self
            .open()
            .ok()
            .is_some_and(|r| r.is_empty().unwrap_or(false));
        if empty {
            "and no commit yet: make a first commit (`git commit --allow-empty -m \"first commit\"`), then `git sandbox new <name>`"
        } else {
            "make one with `git sandbox new <name>`"
        }
    }

    /// Resolves a revision to a commit id.
    pub fn resolve_commit(&self, rev: &str) -> Result<String> {
        let repo = self.open()?;
        if repo.is_empty().unwrap_or(false) {
            // A fresh `git init`: no commit anywhere, so no `--from` could help.
            return Err(UserError::new(format!(
                "{} has no commit yet, and a sandbox starts from one",
                self.root.display()
            ))
            .hint("make a first commit (`git commit --allow-empty -m \"first commit\"` works even with no files), then run this again")
            .into());
        }
        let obj = repo.revparse_single(rev).map_err(|_| {
            UserError::new(format!(
                "{rev:?} does not name a commit in {}",
                self.root.display()
            ))
            .hint("pass --from with a branch, tag or commit that exists")
        })?;
        let commit = obj
            .peel_to_commit()
            .map_err(|_| UserError::new(format!("{rev:?} does not name a commit")))?;
        Ok(commit.id().to_string())
    }

    /// The tip of local branch `name`, if it exists.
    pub fn branch_tip(&self, name: &str) -> Result<Option<String>> {
        let repo = self.open()?;
        match repo.find_branch(name, git2::BranchType::Local) {
            Ok(b) => Ok(b.get().target().map(|o| o.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates local branch `name` at `oid`; fails if it exists.
    pub fn create_branch(&self, name: &str, oid: &str) -> Result<()> {
        let repo = self.open()?;
        let commit = repo.find_commit(git2::Oid::from_str(oid)?)?;
        repo.branch(name, &commit, false)
            .with_context(|| format!("cannot create branch {name}"))?;
        Ok(())
    }

    /// A `git` command in `dir` with the hook variables removed.
    pub fn git(&self, dir: &Path) -> Command {
        git_cmd(dir)
    }

    /// Lists refs under `prefix` with their targets, newest name last.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let repo = self.open()?;
        let mut out = Vec::new();
        for r in repo.references_glob(&format!("{prefix}*"))? {
            let r = r?;
            if let (Some(name), Some(target)) = (r.name().ok(), r.target()) {
                out.push((name.to_string(), target.to_string()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The full message of a commit.
    pub fn commit_message(&self, oid: &str) -> Result<String> {
        let repo = self.open()?;
        let c = repo.find_commit(git2::Oid::from_str(oid)?)?;
        Ok(c.message().unwrap_or_default().to_string())
    }

    /// The parents of a commit.
    pub fn commit_parents(&self, oid: &str) -> Result<Vec<String>> {
        let repo = self.open()?;
        let c = repo.find_commit(git2::Oid::from_str(oid)?)?;
        Ok(c.parent_ids().map(|p| p.to_string()).collect())
    }

    /// Deletes `refs/heads/<branch>.lock` when no process has it open: a lock a killed
    /// git-sandbox left in a ref update would stop every later branch change for good.
    /// Only for branches of instances whose owning process is gone.
    pub fn clear_stale_branch_lock(&self, branch: &str) -> bool {
        let lock = self
            .common_dir
            .join("refs")
            .join("heads")
            .join(format!("{branch}.lock"));
        fs::symlink_metadata(&lock).is_ok()
            && !crate::procs::file_open(&lock)
            && fs::remove_file(&lock).is_ok()
    }

    /// Whether a ref exists.
    pub fn ref_exists(&self, name: &str) -> bool {
        self.open().is_ok_and(|r| r.find_reference(name).is_ok())
    }

    /// Deletes a ref.
    pub fn delete_ref(&self, name: &str) -> Result<()> {
        let repo = self.open()?;
        repo.find_reference(name)?.delete()?;
        Ok(())
    }

    /// Points `name` at `oid` (creating it; fails if it exists).
    pub fn create_ref(&self, name: &str, oid: &str, log: &str) -> Result<()> {
        let repo = self.open()?;
        repo.reference(name, git2::Oid::from_str(oid)?, false, log)
            .with_context(|| format!("cannot create {name}"))?;
        Ok(())
    }

    /// The commit time (seconds since the epoch) of `oid`.
    pub fn commit_time(&self, oid: &str) -> Result<i64> {
        let repo = self.open()?;
        Ok(repo
            .find_commit(git2::Oid::from_str(oid)?)?
            .time()
            .seconds())
    }
}

/// The worktree path an admin dir's `gitdir` file names (the `.git` file's parent).
pub fn admin_target(admin: &Path) -> Option<PathBuf> {
    let s = fs::read_to_string(admin.join("gitdir")).ok()?;
    let p = PathBuf::from(s.trim());
    p.parent().map(Path::to_path_buf)
}

/// The admin dir a worktree's `.git` file points at, if `.git` is such a file.
pub fn gitfile_target(worktree: &Path) -> Option<PathBuf> {
    let dotgit = worktree.join(".git");
    let meta = fs::symlink_metadata(&dotgit).ok()?;
    if !meta.is_file() {
        return None;
    }
    let s = fs::read_to_string(&dotgit).ok()?;
    let rest = s.trim().strip_prefix("gitdir:")?.trim();
    let p = PathBuf::from(rest);
    Some(if p.is_absolute() { p } else { worktree.join(p) })
}

/// `fs::canonicalize` with the path in the error.
pub fn canonical(p: &Path) -> Result<PathBuf> {
    fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))
}

/// Whether a branch name is valid.
pub fn branch_name_valid(name: &str) -> bool {
    git2::Branch::name_is_valid(name).unwrap_or(false)
}

/// Whether the file `path` is tracked by the git repository holding it (`ls-files
/// --error-unmatch`); `false` when it is not, or git cannot say.
pub fn is_tracked(path: &Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    git_cmd(dir)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs git in `dir` for a unit test (no user or system config, a committer named), asserting
/// it succeeded.
#[cfg(test)]
pub(crate) fn test_git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["-c", "user.name=t", "-c", "user.email=t@e"])
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "git {args:?}");
}
