//! Creation: check, reserve a slot, branch, `git worktree add`, env file, copies, ready.
//! Any failure undoes what was done, newest first ([`Undo`]).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::env;
use crate::error::UserError;
use crate::fault;
use crate::git::{self, Repo};
use crate::registry::{Instance, Kind, MadeBy, Registry, State};

use super::checkout::add_worktree;
use super::copy::copy_files;
use super::reserve::{Skipped, creating_entry, reserve};
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
    /// Check the worktree out detached at `start` (`restore` of a sandbox removed on a
    /// detached HEAD): `branch` is then only what the registry records, neither made nor
    /// checked out.
    pub detach: bool,
    /// A trash state to put back after checkout (`restore`).
    pub restoring: Option<crate::registry::Restoring>,
    /// Whether the registry should say the tool created the branch.
    pub created_branch: bool,
    /// Let git show checkout progress (on a terminal).
    pub progress: bool,
    /// Who asks for it (the registry records it: the agent hook hands out only its own).
    pub made_by: MadeBy,
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
    refuse_taken(repo, spec)?;
    if spec.detach {
        return Ok(spec.start.clone());
    }
    check_branch(repo, spec)
}

/// Refuses a path that exists, a place `confine` refuses, and a worktree entry git already has
/// under the id.
fn refuse_taken(repo: &Repo, spec: &CreateSpec) -> Result<()> {
    // A taken path first: its hint is the one that fits the command (`restore` has no name
    // to pick); `confine` refuses it too, in general words.
    if fs::symlink_metadata(&spec.path).is_ok() {
        let hint = match &spec.restoring {
            // `restore` has no other name to pick: the path has to be freed.
            Some(_) => format!(
                "free the path and run `git sandbox restore {name}` again: `git sandbox mv {name} OTHER-NAME` if a sandbox is there, else move {path} away",
                name = spec.name,
                path = spec.path.display()
            ),
            None => "remove or rename it, pick another name, or set `path` in .sandbox.toml".into(),
        };
        return Err(
            UserError::new(format!("{} already exists", spec.path.display()))
                .hint(hint)
                .into(),
        );
    }
    super::confine(repo, &spec.path)?;
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
    Ok(())
}

/// Refuses a branch name git does not take, `--from` with an existing branch, a missing
/// branch, and one checked out elsewhere; returns the commit to start at.
fn check_branch(repo: &Repo, spec: &CreateSpec) -> Result<Option<String>> {
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
                .hint(match &spec.restoring {
                    Some(_) => format!(
                        "switch that worktree to another branch (`git -C \"{}\" switch -c OTHER-BRANCH`), then run `git sandbox restore {}` again",
                        at.display(),
                        spec.name
                    ),
                    None => "switch that worktree to another branch, or pass --branch with another name".into(),
                })
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
    let entry = entry_for(repo, spec, base_commit);
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

/// The `creating` entry for `spec`: a restored sandbox gets its identity back.
fn entry_for(repo: &Repo, spec: &CreateSpec, base_commit: Option<String>) -> Instance {
    let mut entry = creating_entry(
        repo,
        &spec.id,
        &spec.name,
        spec.kind,
        &spec.path,
        Some(spec.branch.clone()),
        // Detached, no branch is made: nothing for an undo (or `prune`) to delete.
        spec.created_branch && !spec.detach,
        base_commit,
        None,
    );
    entry.restoring = spec.restoring.clone();
    entry.made_by = Some(spec.made_by.clone());
    if let Some(r) = spec.restoring.as_ref().filter(|r| r.uuid.is_some()) {
        // Its identity back: the same labels and project, so compose finds its volumes.
        entry.uuid = r.uuid.clone();
        entry.project = r.project.clone();
        entry.engine = r.engine.clone();
    }
    entry
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
    if let Some(oid) = spec.start.as_ref().filter(|_| !spec.detach) {
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
    let users_env = write_env(cfg, spec, &inst, &path)?;
    fault::point("new:env")?;
    let copied = copy_files(repo, cfg, &path)?;
    if let Some(line) = copied.summary() {
        crate::ui::info(&line);
    }
    let mut warnings = copied.skipped;
    warnings.extend(users_env);
    fault::point("new:copied")?;
    if let Some(r) = &spec.restoring {
        // From the first restored byte on, the tree is the user's work: a failure leaves it
        // (and its `creating` entry) for `prune` to finish, never for the undo to delete.
        done.disarm();
        super::restoring::put_back(reg, &spec.id, &path, r)?;
    }
    // After the kept files: a kept `.sandbox/` brings an older page (another slot, perhaps).
    warnings.extend(crate::context::refresh(cfg, &inst, &path));
    fault::point("new:ready")?;
    let inst = mark_ready(reg, spec, &path)?;
    // Its files and index were written in the same second: healed in the background, a
    // second from now, so no later `git status` re-hashes them.
    git::heal_later(&path);
    Ok((inst, warnings))
}

/// The last step: the entry is ready, at its canonical path, owned by no process.
fn mark_ready(reg: &Registry, spec: &CreateSpec, path: &std::path::Path) -> Result<Instance> {
    reg.update(|data| {
        let e = data
            .find_mut(&spec.id)
            .context("the registry entry vanished while creating")?;
        e.path = path.to_path_buf();
        e.state = State::Ready;
        e.created_branch = spec.created_branch;
        e.pid = None;
        e.restoring = None;
        if matches!(spec.made_by, MadeBy::Agent { .. }) {
            // Still being made until the hook is through with it (its setup, if any): a
            // concurrent hook of the same session never hands it out meanwhile.
            e.setup = Some(crate::registry::SETUP_RUNNING.to_string());
            e.setup_pid = Some(std::process::id());
        }
        Ok(e.clone())
    })
}

/// Writes the env file, unless a restore brings back the user's own file at its name (a
/// file rm kept that git-sandbox did not write): that one comes back as it was, and nothing
/// generated is put in its place, even for a moment. Returns the warning that says so.
fn write_env(
    cfg: &Config,
    spec: &CreateSpec,
    inst: &Instance,
    path: &std::path::Path,
) -> Result<Option<String>> {
    let kept = spec
        .restoring
        .as_ref()
        .and_then(|r| r.trash_dir.as_ref())
        .map(|d| {
            crate::removal::trash::TrashDir::at(d)
                .kept()
                .join(&cfg.env_file)
        });
    if let Some(k) = kept.filter(|k| fs::symlink_metadata(k).is_ok() && !env::ours(k)) {
        return Ok(Some(format!(
            "{} is your own file (kept by rm, put back as it was), so git-sandbox's env file was not written; set env_file in .sandbox.toml to a name of its own",
            k.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        )));
    }
    env::write(&path.join(&cfg.env_file), &env::vars(cfg, inst)?)?;
    Ok(None)
}
