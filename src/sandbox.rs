//! Creating and removing instances: the steps, their order, and how a crash at any step is
//! finished or rolled back.
//!
//! Creation (`new`, `restore`, `local-prod new`, `adopt`):
//! 1. Check everything without changing anything: the path is free, git has no admin entry of
//!    that id, the branch can be used.
//! 2. Reserve: under the registry lock, take the lowest free slot whose ports are free and
//!    record the instance as `creating` (with our pid). Parallel `new`s never share a slot.
//! 3. Create the branch (libgit2: no config write, so parallel runs do not race on
//!    `config.lock`), then `git worktree add` (the CLI; see `git.rs`).
//! 4. Write the env file, copy the configured files, apply a saved snapshot (restore).
//! 5. Mark the instance `ready`.
//!
//! Any failure undoes what was done, newest first. A crash leaves a `creating` entry whose pid
//! is gone; `prune` rolls it back (or, if the tree already holds work, completes it).
//!
//! Removal (after `rm` has checked, reported, confirmed and stopped services):
//! 1. Save uncommitted work and the branch tip under `refs/sandbox/trash/…` when asked.
//! 2. Mark the entry `removing`, recording the plan.
//! 3. Rename the directory out of the way (same filesystem, instant).
//! 4. Drop that one worktree's admin entry (never a bare `git worktree prune`).
//! 5. Delete the branch if the plan says so, only if its tip is unchanged.
//! 6. Drop the registry entry and queue the renamed directory for sweeping.
//! 7. Delete the renamed directory (in the background).
//!
//! A crash before step 3 leaves the directory in place: `prune` rolls the entry back to
//! `ready`. After it, `prune` finishes steps 4-7.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::{Config, Port};
use crate::env;
use crate::error::UserError;
use crate::fault;
use crate::git::{self, Repo};
use crate::registry::{self, Instance, Kind, Registry, Removal, State};

/// Prefix of renamed-away worktree directories; only such directories are ever swept.
pub const TRASH_PREFIX: &str = ".git-sandbox-trash.";

/// What to create.
#[derive(Clone, Debug)]
pub struct CreateSpec {
    pub kind: Kind,
    /// The slug (or `local-prod`).
    pub name: String,
    pub id: String,
    pub path: PathBuf,
    pub branch: String,
    /// Create the branch at this commit; `None` uses the existing branch.
    pub start: Option<String>,
    /// A snapshot commit to apply after checkout.
    pub snapshot: Option<String>,
    /// Whether the registry should say the tool created the branch.
    pub created_branch: bool,
    /// Let git show checkout progress (on a terminal).
    pub progress: bool,
}

/// The result of a creation.
#[derive(Clone, Debug)]
pub struct Created {
    pub instance: Instance,
    /// Slots passed over because some of their ports were busy.
    pub skipped: Skipped,
}

/// Checks that nothing is in the way of `spec`, without changing anything, and returns the
/// commit the instance will start at.
fn precheck(repo: &Repo, spec: &CreateSpec) -> Result<Option<String>> {
    if fs::symlink_metadata(&spec.path).is_ok() {
        return Err(
            UserError::new(format!("{} already exists", spec.path.display()))
                .hint("remove or rename it, pick another name, or set `path` in .sandbox.toml")
                .into(),
        );
    }
    let admin = repo.admin_dir(&spec.id);
    if fs::symlink_metadata(&admin).is_ok() {
        return Err(UserError::new(format!(
            "git already has a worktree entry named {} ({})",
            spec.id,
            admin.display()
        ))
        .hint(
            "if its directory is gone, `git worktree prune` clears it; otherwise pick another name",
        )
        .into());
    }
    if !git::branch_name_valid(&spec.branch) {
        return Err(
            UserError::usage(format!("{:?} is not a valid branch name", spec.branch))
                .hint("pass --branch with a valid name")
                .into(),
        );
    }
    let tip = repo.branch_tip(&spec.branch)?;
    match (&spec.start, &tip) {
        (Some(_), Some(_)) => {
            return Err(
                UserError::new(format!("branch {} already exists", spec.branch))
                    .hint(
                        "drop --from to use the existing branch, or pass --branch with a new name",
                    )
                    .into(),
            );
        }
        (None, None) => {
            return Err(UserError::new(format!("branch {} does not exist", spec.branch)).into());
        }
        (None, Some(_)) => {
            if let Some(at) = repo.branch_checked_out_at(&spec.branch)? {
                return Err(UserError::new(format!(
                    "branch {} is already checked out at {}",
                    spec.branch,
                    at.display()
                ))
                .hint("switch that worktree to another branch, or pass --branch with another name")
                .into());
            }
        }
        (Some(_), None) => {}
    }
    Ok(spec.start.clone().or(tip))
}

/// Where a new instance's branch starts: `None` to use `branch` as it is (it exists), else the
/// commit to create it at (`from`, default HEAD). `from` with an existing branch is an error.
pub fn start_point(repo: &Repo, branch: &str, from: Option<&str>) -> Result<Option<String>> {
    let exists = git::branch_name_valid(branch) && repo.branch_tip(branch)?.is_some();
    match (exists, from) {
        (true, Some(_)) => Err(UserError::new(format!(
            "branch {branch} already exists, so --from has nothing to start"
        ))
        .hint("drop --from to use the existing branch, or pass --branch with a new name")
        .into()),
        (true, None) => Ok(None),
        (false, from) => Ok(Some(repo.resolve_commit(from.unwrap_or("HEAD"))?)),
    }
}

/// Creates an instance (see the module doc for the steps).
pub fn create(repo: &Repo, cfg: &Config, reg: &Registry, spec: &CreateSpec) -> Result<Created> {
    let base_commit = precheck(repo, spec)?;
    // Reserve a slot under the lock.
    let entry = creating_entry(
        repo,
        &spec.id,
        &spec.name,
        spec.kind,
        &spec.path,
        Some(spec.branch.clone()),
        spec.created_branch,
        base_commit,
        None,
    );
    let (slot, skipped) = reserve(repo, cfg, reg, entry, |_| Ok(()))?;
    let mut done = Undo {
        repo,
        reg,
        id: &spec.id,
        branch: None,
        worktree: None,
    };
    let result = (|| -> Result<Instance> {
        fault::point("new:reserved")?;
        if let Some(oid) = &spec.start {
            repo.create_branch(&spec.branch, oid)?;
            done.branch = Some((spec.branch.clone(), oid.clone()));
        }
        fault::point("new:branch")?;
        add_worktree(repo, spec)?;
        done.worktree = Some(spec.path.clone());
        fault::point("new:worktree")?;
        let path = git::canonical(&spec.path)?;
        let mut inst = reg
            .load()?
            .find(&spec.id)
            .cloned()
            .context("the registry entry vanished while creating")?;
        inst.path = path.clone();
        inst.slot = slot;
        env::write(&path.join(&cfg.env_file), &env::vars(cfg, &inst)?)?;
        fault::point("new:env")?;
        copy_files(repo, cfg, &path)?;
        if let Some(snap) = &spec.snapshot {
            git::apply_snapshot(&path, snap)?;
        }
        fault::point("new:ready")?;
        let inst = reg.update(|data| {
            let e = data
                .find_mut(&spec.id)
                .context("the registry entry vanished while creating")?;
            e.path = path.clone();
            e.state = State::Ready;
            e.pid = None;
            Ok(e.clone())
        })?;
        Ok(inst)
    })();
    match result {
        Ok(instance) => {
            done.disarm();
            Ok(Created { instance, skipped })
        }
        Err(e) => {
            let undo_errors = done.run();
            let mut err = e.context(format!(
                "creating {} failed; everything it made was undone",
                spec.id
            ));
            if !undo_errors.is_empty() {
                err = err.context(format!(
                    "undoing it also failed: {}",
                    undo_errors.join("; ")
                ));
            }
            Err(err)
        }
    }
}

/// The lowest free slot in 1..=max_slots whose ports are all free, and the slots passed over.
/// A registry entry for an instance about to be made (`creating`, owned by this process).
#[allow(clippy::too_many_arguments)]
fn creating_entry(
    repo: &Repo,
    id: &str,
    name: &str,
    kind: Kind,
    path: &Path,
    branch: Option<String>,
    created_branch: bool,
    base_commit: Option<String>,
    admin: Option<String>,
) -> Instance {
    Instance {
        id: id.to_string(),
        name: name.to_string(),
        kind,
        slot: 0,
        path: path.to_path_buf(),
        parent_repo: repo.root.clone(),
        branch,
        created_branch,
        base_commit,
        created_at: registry::now(),
        is_worktree: true,
        state: State::Creating,
        pid: Some(std::process::id()),
        pushed: None,
        removal: None,
        admin,
    }
}

/// Under the registry lock: refuses an entry that clashes with a registered one (same id, same
/// path, or the same worktree of the same repo), takes a slot (0 for local-prod; else the
/// lowest free one whose ports are free), records the entry, and makes git ignore the env file.
fn reserve(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    mut entry: Instance,
    on_reserved: impl FnOnce(&Instance) -> Result<()>,
) -> Result<(u32, Skipped)> {
    // Every value that will reach the env file is checked before anything is recorded.
    env::vars(cfg, &entry)?;
    reg.update(|data| {
        if let Some(other) = data.instances.iter().find(|i| {
            i.id == entry.id
                || i.path == entry.path
                || (i.parent_repo == entry.parent_repo && i.admin() == entry.admin())
        }) {
            return Err(UserError::new(format!(
                "{} is already registered as {} (at {})",
                entry.id,
                other.id,
                other.path.display()
            ))
            .hint("pick another name, or `git sandbox prune` if it is stale")
            .into());
        }
        let (slot, skipped) = match entry.kind {
            Kind::LocalProd => (0, Vec::new()),
            Kind::Sandbox => pick_slot(cfg, data)?,
        };
        entry.slot = slot;
        exclude_env_file(repo, &cfg.env_file)?;
        on_reserved(&entry)?;
        data.instances.push(entry);
        Ok((slot, skipped))
    })
}

/// Slots passed over, with their busy ports.
type Skipped = Vec<(u32, Vec<Port>)>;

fn pick_slot(cfg: &Config, data: &registry::Data) -> Result<(u32, Skipped)> {
    let used: Vec<u32> = data.instances.iter().map(|i| i.slot).collect();
    let mut skipped = Vec::new();
    for slot in 1..=cfg.max_slots {
        if used.contains(&slot) {
            continue;
        }
        let busy = env::busy_ports(cfg, slot);
        if busy.is_empty() {
            return Ok((slot, skipped));
        }
        skipped.push((slot, busy));
    }
    let mut holders: Vec<String> = data
        .instances
        .iter()
        .filter(|i| i.slot > 0)
        .map(|i| format!("slot {}: {} ({})", i.slot, i.id, i.path.display()))
        .collect();
    holders.sort();
    let mut err = UserError::new(format!(
        "all {} slots are taken: {}",
        cfg.max_slots,
        holders.join("; ")
    ))
    .hint("remove a sandbox you no longer need (`git sandbox rm NAME`), or raise max_slots in .sandbox.toml");
    for (slot, busy) in &skipped {
        let ports: Vec<String> = busy
            .iter()
            .map(|p| format!("{} ({})", p.port, p.label()))
            .collect();
        err = err.hint(format!(
            "slot {slot} is free but its ports are busy: {}",
            ports.join(", ")
        ));
    }
    Err(err.into())
}

/// Makes git ignore the env file in every worktree (`$GIT_COMMON_DIR/info/exclude`).
fn exclude_env_file(repo: &Repo, env_file: &str) -> Result<()> {
    let file = repo.common_dir.join("info").join("exclude");
    let line = format!("/{env_file}");
    let current = fs::read_to_string(&file).unwrap_or_default();
    if current.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("# git-sandbox's env file\n{line}\n"));
    fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
}

/// `git worktree add`, then makes sure the admin name is the instance id: git names it after
/// the directory, so a path whose last part differs is created under a staging directory with
/// the right name and moved into place.
fn add_worktree(repo: &Repo, spec: &CreateSpec) -> Result<()> {
    let (path, id, branch) = (spec.path.as_path(), spec.id.as_str(), spec.branch.as_str());
    let named_right = path.file_name().is_some_and(|n| n == id);
    if named_right {
        repo.worktree_add(path, branch, spec.progress)?;
    } else {
        let parent = path
            .parent()
            .context("the sandbox path has no parent directory")?;
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".git-sandbox-new.")
            .tempdir_in(parent)
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        let temp = staging.path().join(id);
        repo.worktree_add(&temp, branch, spec.progress)?;
        if let Err(e) = fault::point("new:staged").and_then(|()| repo.worktree_move(&temp, path)) {
            let _ = fs::remove_dir_all(&temp);
            let _ = repo.drop_admin_entry(id);
            return Err(e);
        }
    }
    if !repo.is_linked(path, id) {
        anyhow::bail!("git did not name the worktree entry {id} as expected");
    }
    Ok(())
}

/// Copies `copy = [...]` entries (globs allowed) from the main worktree into the sandbox.
fn copy_files(repo: &Repo, cfg: &Config, dest: &Path) -> Result<()> {
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
                    if name != ".git" && wildcard(part, &name) {
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

fn wildcard(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}

/// What creation has done so far, undone newest first unless disarmed.
struct Undo<'a> {
    repo: &'a Repo,
    reg: &'a Registry,
    id: &'a str,
    branch: Option<(String, String)>,
    worktree: Option<PathBuf>,
}

impl Undo<'_> {
    fn disarm(&mut self) {
        self.branch = None;
        self.worktree = None;
        self.id = "";
    }

    fn run(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(path) = self.worktree.take()
            && let Err(e) = remove_fresh_worktree(self.repo, self.id, &path)
        {
            errors.push(format!("{e:#}"));
        }
        if let Some((name, oid)) = self.branch.take() {
            match self.repo.branch_checked_out_at(&name) {
                Ok(Some(at)) => errors.push(format!(
                    "kept branch {name}: it is checked out at {}",
                    at.display()
                )),
                _ => {
                    if let Err(e) = self.repo.delete_branch_at(&name, &oid) {
                        errors.push(format!("{e:#}"));
                    }
                }
            }
        }
        if !self.id.is_empty() {
            let id = self.id.to_string();
            if let Err(e) = self.reg.update(|d| {
                d.remove(&id);
                Ok(())
            }) {
                errors.push(format!("{e:#}"));
            }
        }
        errors
    }
}

/// Deletes a worktree this process (or a crashed `new`) just made, after checking it is the
/// linked worktree `id`.
fn remove_fresh_worktree(repo: &Repo, id: &str, path: &Path) -> Result<()> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() || !repo.is_linked(path, id) {
            anyhow::bail!(
                "left {} alone: it is not the worktree git-sandbox made",
                path.display()
            );
        }
        fs::remove_dir_all(path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    repo.drop_admin_entry(id)
}

/// The removal plan `rm` decided on.
#[derive(Clone, Debug)]
pub struct RemovePlan {
    /// Save uncommitted work and the branch tip first.
    pub save: bool,
    /// Delete the branch (its name and the tip it must still have).
    pub delete_branch: Option<(String, String)>,
    /// Remove the directory (false for `--keep-worktree`).
    pub remove_worktree: bool,
}

/// What a removal did.
#[derive(Clone, Debug, Default)]
pub struct Removed {
    pub saved_ref: Option<String>,
    pub branch_deleted: bool,
}

/// Removes a verified instance (see the module doc for the steps).
pub fn remove(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    path: &Path,
    plan: &RemovePlan,
) -> Result<Removed> {
    let mut out = Removed::default();
    if plan.save {
        let saved = save(repo, inst, path)?;
        out.saved_ref = Some(saved);
    }
    fault::point("rm:saved")?;
    let trash_dir = trash_path(path)?;
    let removal = Removal {
        trash_dir: trash_dir.clone(),
        delete_branch: plan.delete_branch.as_ref().map(|(_, tip)| tip.clone()),
        saved_ref: out.saved_ref.clone(),
        remove_worktree: plan.remove_worktree,
    };
    reg.update(|d| {
        let e = d
            .find_mut(&inst.id)
            .context("the registry entry vanished during removal")?;
        if e.state != State::Ready {
            anyhow::bail!(
                "{} is already being created or removed by another git-sandbox",
                inst.id
            );
        }
        e.state = State::Removing;
        e.pid = Some(std::process::id());
        e.removal = Some(removal.clone());
        Ok(())
    })?;
    fault::point("rm:marked")?;
    if plan.remove_worktree {
        fs::rename(path, &trash_dir)
            .with_context(|| format!("cannot move {} out of the way", path.display()))?;
        fault::point("rm:moved")?;
    }
    out.branch_deleted = finish(repo, reg, inst, &removal)?;
    Ok(out)
}

/// Steps 4-7 of a removal whose directory has been moved (or is kept).
fn finish(repo: &Repo, reg: &Registry, inst: &Instance, removal: &Removal) -> Result<bool> {
    if removal.remove_worktree {
        repo.drop_admin_entry(inst.admin())?;
        fault::point("rm:admin")?;
    }
    let mut deleted = false;
    if let (Some(tip), Some(branch)) = (&removal.delete_branch, &inst.branch) {
        deleted = repo.delete_branch_at(branch, tip)?;
        fault::point("rm:branch")?;
    }
    reg.update(|d| {
        d.remove(&inst.id);
        if removal.remove_worktree && fs::symlink_metadata(&removal.trash_dir).is_ok() {
            d.sweep.push(removal.trash_dir.clone());
        }
        Ok(())
    })?;
    fault::point("rm:unregistered")?;
    if removal.remove_worktree {
        sweep_later(reg, &removal.trash_dir);
    }
    Ok(deleted)
}

/// Where a worktree directory goes before it is deleted: beside it (same filesystem).
fn trash_path(path: &Path) -> Result<PathBuf> {
    let parent = path
        .parent()
        .context("the sandbox has no parent directory")?;
    let name = path
        .file_name()
        .context("the sandbox path has no name")?
        .to_string_lossy();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(parent.join(format!("{TRASH_PREFIX}{name}.{stamp}")))
}

/// Saves uncommitted work and the branch tip under `refs/sandbox/trash/<id>/<timestamp>`.
pub fn save(repo: &Repo, inst: &Instance, path: &Path) -> Result<String> {
    let when = registry::now();
    let message = format!(
        "git-sandbox: saved {id} before removal\n\n\
         sandbox: {name}\nid: {id}\nkind: {kind}\nbranch: {branch}\ncreated-branch: {created}\nsaved-at: {when}\n\n\
         The tree is the working files (tracked and untracked, not ignored); parent 1 is the\n\
         branch tip, parent 2 the staged state. Bring it back with: git sandbox restore {name}\n",
        id = inst.id,
        name = inst.name,
        kind = if inst.kind == Kind::LocalProd {
            "local-prod"
        } else {
            "sandbox"
        },
        branch = inst.branch.as_deref().unwrap_or(""),
        created = inst.created_branch,
    );
    let snap = git::snapshot(path, &message).map_err(|e| {
        e.context(format!(
            "could not save the work in {}; nothing was removed",
            path.display()
        ))
    })?;
    let stamp: String = when.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let base = format!("refs/sandbox/trash/{}/{stamp}", inst.id);
    let mut name = base.clone();
    let mut n = 1;
    while repo
        .create_ref(&name, &snap.commit, "git-sandbox: save before removal")
        .is_err()
    {
        n += 1;
        if n > 100 {
            anyhow::bail!("could not create {base}; nothing was removed");
        }
        name = format!("{base}-{n}");
    }
    Ok(name)
}

/// Deletes a renamed-away directory: in the background by default, so `rm` returns at once;
/// `GIT_SANDBOX_SWEEP=foreground` waits for it, and `GIT_SANDBOX_SWEEP=prune` leaves it queued
/// for the next `prune` (the benchmark times that sweep).
pub fn sweep_later(reg: &Registry, dir: &Path) {
    let mode = std::env::var_os("GIT_SANDBOX_SWEEP");
    if mode.as_ref().is_some_and(|v| v == "prune") {
        return;
    }
    let foreground = mode.is_some_and(|v| v == "foreground");
    if !foreground && let Ok(exe) = std::env::current_exe() {
        let spawned = std::process::Command::new(exe)
            .arg("__sweep")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return;
        }
    }
    let _ = sweep_now(reg, dir);
}

/// Deletes one queued trash directory and drops it from the queue. Only directories named
/// like ours are ever deleted.
pub fn sweep_now(reg: &Registry, dir: &Path) -> Result<()> {
    let named_ours = dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX));
    if !named_ours {
        anyhow::bail!("{} is not a git-sandbox trash directory", dir.display());
    }
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {
            fs::remove_dir_all(dir).with_context(|| format!("cannot delete {}", dir.display()))?;
        }
        Ok(_) => anyhow::bail!("{} is not a directory; left alone", dir.display()),
        Err(_) => {}
    }
    reg.update(|d| {
        d.sweep.retain(|p| p != dir);
        Ok(())
    })
}

/// Puts an interrupted instance back to `ready`, forgetting the operation.
fn mark_ready(reg: &Registry, id: &str) -> Result<()> {
    reg.update(|d| {
        if let Some(e) = d.find_mut(id) {
            e.state = State::Ready;
            e.pid = None;
            e.removal = None;
        }
        Ok(())
    })
}

/// What `prune` did or would do with an interrupted operation.
#[derive(Clone, Debug)]
pub enum Repair {
    /// A `new` crashed: everything it made is undone.
    RolledBackCreation(String),
    /// A `new` crashed after the tree held work: the sandbox is kept and marked ready.
    CompletedCreation(String),
    /// An `rm` crashed before moving the directory: the sandbox is back to ready.
    RolledBackRemoval(String),
    /// An `rm` crashed after moving the directory: the removal is finished.
    FinishedRemoval(String),
}

/// Finishes or rolls back an instance a crashed process left `creating` or `removing`.
pub fn repair(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    dry_run: bool,
) -> Result<Option<Repair>> {
    if inst
        .pid
        .is_some_and(|p| p != std::process::id() && registry::pid_alive(p))
    {
        return Ok(None);
    }
    match inst.state {
        State::Ready => Ok(None),
        State::Creating => {
            let admin = repo.admin_dir(inst.admin());
            let half_made =
                fs::read_to_string(admin.join("locked")).is_ok_and(|s| s.trim() == "initializing");
            let holds_work = !half_made
                && fs::symlink_metadata(&inst.path).is_ok()
                && crate::target::verify(repo, inst).is_ok()
                && git::status(&inst.path, git::Scan::Full).is_ok_and(|s| !s.is_clean());
            if holds_work {
                if !dry_run {
                    mark_ready(reg, &inst.id)?;
                }
                return Ok(Some(Repair::CompletedCreation(inst.id.clone())));
            }
            if !dry_run {
                // A crash between `worktree add` into the staging directory and the move leaves
                // the checkout there: git's entry says where.
                let actual = git::admin_target(&admin).filter(|p| {
                    p.parent()
                        .and_then(|d| d.file_name())
                        .is_some_and(|n| n.to_string_lossy().starts_with(".git-sandbox-new."))
                });
                let mut undo = Undo {
                    repo,
                    reg,
                    id: &inst.id,
                    branch: None,
                    worktree: Some(actual.clone().unwrap_or_else(|| inst.path.clone())),
                };
                if inst.created_branch
                    && let (Some(b), Some(base)) = (&inst.branch, &inst.base_commit)
                {
                    undo.branch = Some((b.clone(), base.clone()));
                }
                let errors = undo.run();
                if !errors.is_empty() {
                    anyhow::bail!("rolling back {} failed: {}", inst.id, errors.join("; "));
                }
                if let Some(staging) = actual.as_deref().and_then(Path::parent) {
                    let _ = fs::remove_dir(staging);
                }
            }
            Ok(Some(Repair::RolledBackCreation(inst.id.clone())))
        }
        State::Removing => {
            let Some(removal) = inst.removal.clone() else {
                anyhow::bail!("{} is marked removing but has no plan", inst.id);
            };
            let still_there = removal.remove_worktree && fs::symlink_metadata(&inst.path).is_ok();
            if still_there {
                if !dry_run {
                    mark_ready(reg, &inst.id)?;
                }
                return Ok(Some(Repair::RolledBackRemoval(inst.id.clone())));
            }
            if !dry_run {
                finish(repo, reg, inst, &removal)?;
            }
            Ok(Some(Repair::FinishedRemoval(inst.id.clone())))
        }
    }
}

/// Registers a linked worktree made by hand: gives it a slot and an env file. Nothing of the
/// worktree changes but the env file, which is refused if a file of that name is already there
/// and is not one git-sandbox wrote.
pub fn adopt(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    path: &Path,
    name: &str,
) -> Result<Created> {
    let meta = fs::symlink_metadata(path)
        .map_err(|_| UserError::new(format!("{} does not exist", path.display())))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(UserError::new(format!("{} is not a directory", path.display())).into());
    }
    let path = git::canonical(path)?;
    if path == repo.root {
        return Err(
            UserError::new("the main worktree cannot be adopted; it is the parent repo").into(),
        );
    }
    let admin_dir = git::gitfile_target(&path)
        .and_then(|p| fs::canonicalize(p).ok())
        .ok_or_else(|| {
            UserError::new(format!(
                "{} is not a linked worktree (no .git file)",
                path.display()
            ))
            .hint("make one with `git worktree add`, or use `git sandbox new`")
        })?;
    let worktrees = git::canonical(&repo.common_dir.join("worktrees"))?;
    if admin_dir.parent() != Some(worktrees.as_path()) {
        return Err(UserError::new(format!(
            "{} is a worktree of another repository",
            path.display()
        ))
        .into());
    }
    let admin = admin_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the worktree entry has no name")?;
    if git::admin_target(&admin_dir).and_then(|p| fs::canonicalize(p).ok()) != Some(path.clone()) {
        return Err(UserError::new(format!(
            "git's entry {} does not point back at {}",
            admin_dir.display(),
            path.display()
        ))
        .hint("run `git worktree repair` first")
        .into());
    }
    let env_path = path.join(&cfg.env_file);
    if let Ok(text) = fs::read_to_string(&env_path)
        && !text.starts_with("# Written by git-sandbox")
    {
        return Err(UserError::new(format!(
            "{} already exists and git-sandbox did not write it",
            env_path.display()
        ))
        .hint("move it aside, or set env_file in .sandbox.toml")
        .into());
    }
    let id = format!("{}--{name}", repo.name);
    let branch = git::worktree_branch(&path);
    let head = git::worktree_head(&path);
    let entry = creating_entry(
        repo,
        &id,
        name,
        Kind::Sandbox,
        &path,
        branch,
        false,
        head,
        (admin != id).then(|| admin.clone()),
    );
    // Never `creating`: prune rolls those back, and this worktree is the user's. The env file
    // is written under the registry lock, before the entry is recorded, as ready.
    let mut entry = entry;
    entry.state = State::Ready;
    entry.pid = None;
    let (_, skipped) = reserve(repo, cfg, reg, entry, |e| {
        env::write(&env_path, &env::vars(cfg, e)?)
    })?;
    let instance = reg
        .load()?
        .find(&id)
        .cloned()
        .context("the registry entry vanished")?;
    Ok(Created { instance, skipped })
}
