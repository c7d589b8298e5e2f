//! Creation: check, reserve a slot, branch, `git worktree add`, env file, copies, ready.
//! Any failure undoes what was done, newest first ([`Undo`]).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::config::{Config, Port};
use crate::env;
use crate::error::UserError;
use crate::fault;
use crate::git::{self, Repo};
use crate::registry::{self, Instance, Kind, Registry, State};

use super::copy::copy_files;
pub(super) use super::undo::Undo;

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
    /// A trash state to put back after checkout (`restore`).
    pub restoring: Option<crate::registry::Restoring>,
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
    /// Things the user should know that did not stop the creation (a `copy` entry skipped).
    pub warnings: Vec<String>,
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
    let mut entry = creating_entry(
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
    entry.restoring = spec.restoring.clone();
    let (slot, skipped) = reserve(repo, cfg, reg, entry, |_| Ok(()))?;
    let mut done = Undo {
        repo,
        reg,
        id: &spec.id,
        branch: None,
        worktree: None,
    };
    match build(repo, cfg, reg, spec, slot, &mut done) {
        Ok((instance, warnings)) => {
            done.disarm();
            Ok(Created {
                instance,
                skipped,
                warnings,
            })
        }
        Err(e) if done.id.is_empty() => Err(e.context(format!(
            "restoring {} stopped after its saved work was put back at {}; that is kept: \
             `git sandbox prune` finishes the restore",
            spec.id,
            spec.path.display()
        ))),
        Err(e) => {
            let undo_errors = done.run();
            Err(if undo_errors.is_empty() {
                e.context(format!(
                    "creating {} failed; everything it made was undone",
                    spec.id
                ))
            } else {
                e.context(format!(
                    "creating {} failed, and undoing it failed too ({}); `git sandbox prune` \
                     finishes the cleanup",
                    spec.id,
                    undo_errors.join("; ")
                ))
            })
        }
    }
}

/// Steps 3-5 of creation, recording in `done` what needs undoing. Returns the ready instance
/// and the `copy` entries skipped.
fn build(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    spec: &CreateSpec,
    slot: u32,
    done: &mut Undo,
) -> Result<(Instance, Vec<String>)> {
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
    let warnings = copy_files(repo, cfg, &path)?;
    fault::point("new:copied")?;
    if let Some(r) = &spec.restoring {
        // From the first restored byte on, the tree is the user's work: a failure leaves it
        // (and its `creating` entry) for `prune` to finish, never for the undo to delete.
        done.disarm();
        super::restoring::put_back(reg, &spec.id, &path, r)?;
    }
    fault::point("new:ready")?;
    let inst = reg.update(|data| {
        let e = data
            .find_mut(&spec.id)
            .context("the registry entry vanished while creating")?;
        e.path = path.clone();
        e.state = State::Ready;
        e.pid = None;
        e.restoring = None;
        Ok(e.clone())
    })?;
    Ok((inst, warnings))
}

/// The lowest free slot in 1..=max_slots whose ports are all free, and the slots passed over.
/// A registry entry for an instance about to be made (`creating`, owned by this process).
#[allow(clippy::too_many_arguments)]
pub(super) fn creating_entry(
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
        restoring: None,
        admin,
    }
}

/// Under the registry lock: refuses an entry that clashes with a registered one (same id, same
/// path, or the same worktree of the same repo), takes a slot (0 for local-prod; else the
/// lowest free one whose ports are free), records the entry, and makes git ignore the env file.
pub(super) fn reserve(
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
/// the right name and moved into place. On failure nothing it made is left behind.
fn add_worktree(repo: &Repo, spec: &CreateSpec) -> Result<()> {
    let (path, id, branch) = (spec.path.as_path(), spec.id.as_str(), spec.branch.as_str());
    if path.file_name().is_some_and(|n| n == id) {
        return add_checked(repo, path, id, branch, spec.progress);
    }
    let parent = path
        .parent()
        .context("the sandbox path has no parent directory")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".git-sandbox-new.")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let temp = staging.path().join(id);
    add_checked(repo, &temp, id, branch, spec.progress)?;
    let moved = fault::point("new:staged")
        .and_then(|()| repo.worktree_move(&temp, path))
        .and_then(|()| {
            if repo.is_linked(path, id) {
                Ok(())
            } else {
                bail!("git did not move the worktree {id} to {}", path.display())
            }
        });
    if let Err(e) = moved {
        let mut undo = discard_added(repo, &temp, branch);
        if fs::symlink_metadata(path).is_ok() {
            undo = undo.and(discard_added(repo, path, branch));
        }
        return Err(with_undo(e, undo));
    }
    Ok(())
}

/// `git worktree add path branch`, and a check that git named the admin entry `id`. A failure
/// after git made the worktree (a failing `post-checkout` hook of the project makes git exit
/// non-zero but keeps it; a name git rewrote) removes it again.
fn add_checked(repo: &Repo, path: &Path, id: &str, branch: &str, progress: bool) -> Result<()> {
    let added = repo
        .worktree_add(path, branch, progress)
        .and_then(|()| fault::point("new:added"))
        .and_then(|()| {
            if repo.is_linked(path, id) {
                Ok(())
            } else {
                bail!("git did not name the worktree entry {id} as expected")
            }
        });
    match added {
        Ok(()) => Ok(()),
        Err(e) => Err(with_undo(e, discard_added(repo, path, branch))),
    }
}

/// Adds a failed clean-up to an error.
fn with_undo(e: anyhow::Error, undo: Result<()>) -> anyhow::Error {
    match undo {
        Ok(()) => e,
        Err(u) => e.context(format!("and cleaning up after it failed: {u:#}")),
    }
}

/// Removes the worktree `git worktree add` just made at `path`, whatever admin name git gave
/// it: only a linked worktree of this repo whose admin entry points back at `path` and has
/// `branch` checked out (no other worktree can have it: `precheck` made sure), so nothing of
/// anyone else's is touched. Nothing at `path` is fine.
fn discard_added(repo: &Repo, path: &Path, branch: &str) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    let ours = || -> Option<String> {
        if !meta.is_dir() {
            return None;
        }
        let admin = fs::canonicalize(git::gitfile_target(path)?).ok()?;
        let name = admin.file_name()?.to_str()?.to_string();
        let in_repo = fs::canonicalize(repo.admin_dir(&name)).ok()? == admin;
        let back = fs::canonicalize(git::admin_target(&admin)?).ok()?;
        let head = fs::read_to_string(admin.join("HEAD")).ok()?;
        let on_branch = head.trim() == format!("ref: refs/heads/{branch}");
        (in_repo && on_branch && back == fs::canonicalize(path).ok()?).then_some(name)
    };
    let Some(name) = ours() else {
        bail!(
            "left {} alone: it is not the worktree git-sandbox made",
            path.display()
        );
    };
    fs::remove_dir_all(path).with_context(|| format!("cannot remove {}", path.display()))?;
    repo.drop_admin_entry(&name)
}
