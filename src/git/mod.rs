//! The one door to git: only this module uses git2 or spawns `git`.
//!
//! The rest of the tool asks questions in its own words ("what would be lost?", "is this tip
//! pushed?"). Each operation uses whichever of libgit2 and the git CLI is faster or more correct
//! (../shared/RESEARCH.md):
//! - libgit2 for small reads and ref edits: discovering the repo, resolving revisions, creating
//!   and deleting branches, reading HEADs and the worktree admin files. No process spawn.
//! - the git CLI for `worktree add` (libgit2 is ~1.8x slower, skips hooks, filters and
//!   sparse-checkout, and leaves debris on failure), for `status` (2x faster on large trees,
//!   honours the untracked cache and fsmonitor), and for reachability (`rev-list --not
//!   --remotes` uses the commit-graph; a libgit2 revwalk takes seconds on old branches).
//!
//! Every spawned git has the `GIT_DIR`-family variables removed, because git exports them to
//! hooks and they would point our git at the wrong repository. Those that run long or write
//! (`worktree add`/`move`, the snapshot commands, `rm`'s full `status`) run under a supervisor
//! ([`git_cmd_guarded`], `supervise.rs`), so that they and their own children die with
//! git-sandbox. Quick reads (`rev-parse`, `rev-list --count`, `list`'s status) run directly: an
//! orphaned read changes nothing, and `list` would pay a start-up per sandbox.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, anyhow, bail};

use crate::error::UserError;

mod snapshot;
mod state;

pub use snapshot::{apply_snapshot, snapshot};
pub use state::{IndexLock, clear_stale_index_lock, hidden_edits, reflog_only};

/// Variables git sets for hooks and aliases that would redirect a child git.
const GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
];

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
}

impl Repo {
    /// Finds the repository containing `dir` (from any of its worktrees).
    pub fn discover(dir: &Path) -> Result<Repo> {
        let repo = git2::Repository::discover(dir).map_err(|_| {
            UserError::new(format!("{} is not inside a git repository", dir.display()))
                .hint("run git sandbox from inside your repository, or pass -C <repo>")
        })?;
        let common_dir = canonical(repo.commondir())?;
        let main = git2::Repository::open(&common_dir)
            .with_context(|| format!("cannot open {}", common_dir.display()))?;
        if main.is_bare() {
            return Err(UserError::new(format!(
                "{} is a bare repository; sandboxes need a main worktree",
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

    /// Resolves a revision to a commit id.
    pub fn resolve_commit(&self, rev: &str) -> Result<String> {
        let repo = self.open()?;
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

    /// Deletes local branch `name` only if its tip is still `expected`.
    pub fn delete_branch_at(&self, name: &str, expected: &str) -> Result<bool> {
        let repo = self.open()?;
        let refname = format!("refs/heads/{name}");
        let Ok(r) = repo.find_reference(&refname) else {
            return Ok(false);
        };
        if r.target().map(|o| o.to_string()).as_deref() != Some(expected) {
            return Ok(false);
        }
        let mut r = r;
        r.delete()
            .with_context(|| format!("cannot delete branch {name}"))?;
        Ok(true)
    }

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
    pub fn worktree_add(&self, path: &Path, branch: &str, progress: bool) -> Result<()> {
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
        cmd.args(["worktree", "add"]);
        if !progress {
            cmd.arg("--quiet");
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

    /// Whether the linked worktree `id` is locked, and why.
    pub fn lock_reason(&self, id: &str) -> Option<String> {
        fs::read_to_string(self.admin_dir(id).join("locked"))
            .ok()
            .map(|r| r.trim().to_string())
    }

    /// How many commits reachable from `tip` are on no remote-tracking ref (and, with
    /// `merged_into`, not on those commits either). The CLI uses the commit-graph.
    pub fn unpushed_count(&self, tip: &str, merged_into: &[String]) -> Result<u32> {
        let out = self
            .git(&self.root)
            .args(["rev-list", "--count", tip, "--not", "--remotes"])
            .args(merged_into)
            .output()?;
        check(&out, "git rev-list")?;
        let s = String::from_utf8_lossy(&out.stdout);
        s.trim()
            .parse()
            .with_context(|| format!("unexpected git rev-list output {s:?}"))
    }

    /// Whether `oid` is the tip of some remote-tracking ref (an in-process check that saves a
    /// `rev-list` spawn for the common case of a sandbox sitting on a pushed commit).
    pub fn is_remote_tip(&self, oid: &str) -> bool {
        let Ok(repo) = self.open() else {
            return false;
        };
        let Ok(want) = git2::Oid::from_str(oid) else {
            return false;
        };
        let Ok(refs) = repo.references_glob("refs/remotes/*") else {
            return false;
        };
        refs.flatten()
            .any(|r| r.resolve().ok().and_then(|r| r.target()) == Some(want))
    }

    /// The commit the main worktree's HEAD is at, if any.
    pub fn main_head(&self) -> Option<String> {
        let repo = self.open().ok()?;
        let head = repo.head().ok()?;
        head.target().map(|o| o.to_string())
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

/// A `git` command in `dir` with the hook variables removed.
pub fn git_cmd(dir: &Path) -> Command {
    with_git_env(Command::new("git"), dir)
}

/// [`git_cmd`] under a supervisor that kills it and everything it started when git-sandbox
/// dies (see `supervise.rs`): for commands that run long or write.
pub fn git_cmd_guarded(dir: &Path) -> Command {
    with_git_env(crate::supervise::command("git"), dir)
}

fn with_git_env(mut cmd: Command, dir: &Path) -> Command {
    cmd.current_dir(dir).stdin(Stdio::null());
    for v in GIT_ENV {
        cmd.env_remove(v);
    }
    cmd
}

/// Fails with git's own message when it exited non-zero.
pub fn check(out: &Output, what: &str) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    bail!("{what} failed: {}", err.trim())
}

/// Runs git in `dir` and returns stdout.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    run_cmd(git_cmd(dir), args)
}

/// [`run`] under a supervisor ([`git_cmd_guarded`]).
pub fn run_guarded(dir: &Path, args: &[&str]) -> Result<String> {
    run_cmd(git_cmd_guarded(dir), args)
}

fn run_cmd(mut cmd: Command, args: &[&str]) -> Result<String> {
    let out = cmd.args(args).output().context("cannot run git")?;
    check(
        &out,
        &format!("git {}", args.first().copied().unwrap_or("")),
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a prepared git command with `input` on stdin; returns stdout.
pub fn run_with_stdin(mut cmd: Command, input: &str) -> Result<String> {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    let out = child.wait_with_output()?;
    check(&out, "git")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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

/// The state of one worktree, from one `git status --porcelain=v2 --branch`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Status {
    pub head: Option<String>,
    pub branch: Option<String>,
    pub upstream: Option<String>,
    pub ahead: u32,
    pub behind: u32,
    pub staged: Vec<String>,
    pub unstaged: Vec<String>,
    pub untracked: Vec<String>,
    pub conflicted: Vec<String>,
    /// Ignored paths (directories collapsed), when asked for.
    pub ignored: Vec<String>,
}

/// How much `status` should look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// Untracked directories collapsed (for `list`).
    Quick,
    /// Every untracked file, and the ignored paths, in the same pass (for `rm`).
    Full,
    /// As `Full`, but without looking into submodules: for a quarantined tree, where a
    /// submodule's relative `.git` link no longer resolves (its checkout is kept whole).
    Quarantined,
}

impl Status {
    pub fn is_clean(&self) -> bool {
        self.staged.is_empty()
            && self.unstaged.is_empty()
            && self.untracked.is_empty()
            && self.conflicted.is_empty()
    }
}

/// Reads a worktree's status with the git CLI (2x faster than libgit2 on large trees, and it
/// honours the user's untracked cache and fsmonitor). `--no-optional-locks` keeps it read-only.
pub fn status(worktree: &Path, scan: Scan) -> Result<Status> {
    // rm's full scan can take seconds on a big tree: it dies with us.
    let mut cmd = match scan {
        Scan::Quick => git_cmd(worktree),
        Scan::Full | Scan::Quarantined => git_cmd_guarded(worktree),
    };
    cmd.args([
        "--no-optional-locks",
        "status",
        "--porcelain=v2",
        "--branch",
        "-z",
    ]);
    cmd.arg(if scan == Scan::Quarantined {
        "--ignore-submodules=all"
    } else {
        "--ignore-submodules=none"
    });
    match scan {
        Scan::Quick => cmd.arg("--untracked-files=normal"),
        // `matching` lists an ignored directory once (`node_modules/`), not every file in it.
        Scan::Full | Scan::Quarantined => cmd.args(["--untracked-files=all", "--ignored=matching"]),
    };
    let out = cmd.output().context("cannot run git status")?;
    check(&out, "git status")?;
    Ok(parse_status(&out.stdout))
}

fn parse_status(bytes: &[u8]) -> Status {
    let mut st = Status::default();
    let mut fields = bytes.split(|b| *b == 0).map(|f| String::from_utf8_lossy(f));
    while let Some(rec) = fields.next() {
        if let Some(h) = rec.strip_prefix("# ") {
            let (key, val) = h.split_once(' ').unwrap_or((h, ""));
            match key {
                "branch.oid" if val != "(initial)" => st.head = Some(val.into()),
                "branch.head" if val != "(detached)" => st.branch = Some(val.into()),
                "branch.upstream" => st.upstream = Some(val.into()),
                "branch.ab" => {
                    for part in val.split(' ') {
                        if let Some(a) = part.strip_prefix('+') {
                            st.ahead = a.parse().unwrap_or(0);
                        } else if let Some(b) = part.strip_prefix('-') {
                            st.behind = b.parse().unwrap_or(0);
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        let kind = rec.chars().next();
        match kind {
            Some('1') | Some('2') => {
                let n = if kind == Some('1') { 8 } else { 9 };
                let parts: Vec<&str> = rec.splitn(n + 1, ' ').collect();
                let xy = parts.get(1).copied().unwrap_or("..");
                let path = parts.get(n).copied().unwrap_or("").to_string();
                let mut chars = xy.chars();
                if chars.next().is_some_and(|c| c != '.') {
                    st.staged.push(path.clone());
                }
                if chars.next().is_some_and(|c| c != '.') {
                    st.unstaged.push(path);
                }
                if kind == Some('2') {
                    fields.next(); // the original path of a rename
                }
            }
            Some('u') => {
                let parts: Vec<&str> = rec.splitn(11, ' ').collect();
                st.conflicted
                    .push(parts.get(10).copied().unwrap_or("").to_string());
            }
            Some('?') => st
                .untracked
                .push(rec.get(2..).unwrap_or_default().to_string()),
            Some('!') => st
                .ignored
                .push(rec.get(2..).unwrap_or_default().to_string()),
            _ => {}
        }
    }
    st
}

/// How many files the ignored paths hold, and their total size.
pub fn ignored_size(worktree: &Path, ignored: &[String]) -> (u64, u64) {
    ignored.iter().fold((0, 0), |(c, b), p| {
        let (c2, b2) = du(&worktree.join(p.trim_end_matches('/')));
        (c + c2, b + b2)
    })
}

/// Files and bytes under `p`, never following links.
fn du(p: &Path) -> (u64, u64) {
    let Ok(meta) = fs::symlink_metadata(p) else {
        return (0, 0);
    };
    if !meta.is_dir() {
        return (1, meta.len());
    }
    let mut total = (0, 0);
    if let Ok(rd) = fs::read_dir(p) {
        for e in rd.flatten() {
            let (c, b) = du(&e.path());
            total.0 += c;
            total.1 += b;
        }
    }
    total
}

/// The directory git runs hooks from for the worktree at `dir` (honours `core.hooksPath`).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let out = run(dir, &["rev-parse", "--git-path", "hooks"])?;
    let p = PathBuf::from(out.trim());
    Ok(if p.is_absolute() { p } else { dir.join(p) })
}

/// The branch a linked worktree has checked out, read from its admin dir's HEAD (no git2,
/// no spawn: the post-checkout hook runs on every checkout).
pub fn worktree_branch(worktree: &Path) -> Option<String> {
    let admin = gitfile_target(worktree)?;
    let head = fs::read_to_string(admin.join("HEAD")).ok()?;
    head.trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_string)
}

/// The commit a worktree's HEAD is at (libgit2: no spawn).
pub fn worktree_head(worktree: &Path) -> Option<String> {
    let repo = git2::Repository::open(worktree).ok()?;
    let head = repo.head().ok()?;
    head.target().map(|o| o.to_string())
}

/// Whether `branch` has an upstream or a same-named branch on some remote.
pub fn branch_on_remote(worktree: &Path, branch: &str) -> bool {
    let Ok(repo) = git2::Repository::open(worktree) else {
        return false;
    };
    if let Ok(b) = repo.find_branch(branch, git2::BranchType::Local)
        && b.upstream().is_ok()
    {
        return true;
    }
    repo.references_glob(&format!("refs/remotes/*/{branch}"))
        .is_ok_and(|mut refs| refs.next().is_some())
}
