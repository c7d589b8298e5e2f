//! `mv OLD NEW`: renaming a sandbox, crash-safe, and `prune`'s repair of a rename a crash
//! interrupted.
//!
//! What changes: the sandbox's name (`SANDBOX_NAME`) and its directory, which moves to the
//! path template's place for the new name. What stays: the branch, the slot and ports, and
//! the **instance id**: it is git's admin name for the worktree (its HEAD reflog and
//! per-worktree refs live there), the compose project (containers, networks, volumes holding
//! data) and the component of its saved states' refs. Renaming it would orphan all of those,
//! so the id keeps the name the sandbox was made with (`SANDBOX_ID`, `COMPOSE_PROJECT_NAME`).
//! A later `new` or `restore` of the old name takes the next free id ([`free_id`]), and
//! `restore` finds saved states by the name they were saved under.
//!
//! Steps:
//! 1. Check without changing anything ([`plan`]): the path verifies, the new name is free and
//!    its directory does not exist, the worktree is not locked, no process works inside it
//!    (it would be left in a directory that is gone), its services are not running (their
//!    bind mounts name the old path).
//! 2. Mark: under the registry lock, record the new name and path with `moving` (the old
//!    ones) and our pid.
//! 3. `git worktree move` (the directory and git's admin entry move together). On failure
//!    the mark is undone.
//! 4. Verify the new path, rewrite the env file (`SANDBOX_NAME`), clear the mark.
//!
//! A crash leaves a marked entry whose pid is gone; `prune` finishes it when the directory is
//! at the new path (first `git worktree repair` if git was killed between its rename and its
//! admin update) and rolls it back when it is still at the old one.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::{self, Config};
use crate::error::UserError;
use crate::git::{self, Repo};
use crate::registry::{Instance, Moving, Registry, State};
use crate::{compose, env, fault, procs, target};

/// The id for a new sandbox named `slug`: `<repo>--<slug>`, unless that id is taken, then the
/// first free `<repo>--<slug>-<n>`. Ids are unique per user (they are compose project names):
/// taken by a renamed sandbox of this repo that still holds it (or as git admin name), or by
/// any sandbox of another repo whose directory has the same name (`~/a/app`, `~/b/app`).
pub fn free_id(repo: &Repo, data: &crate::registry::Data, slug: &str) -> String {
    let base = repo.instance_id(slug);
    let taken = |id: &str| {
        data.instances.iter().any(|i| {
            if i.parent_repo == repo.root {
                i.name != slug && (i.id == id || i.admin() == id)
            } else {
                i.id == id
            }
        })
    };
    let mut id = base.clone();
    let mut n = 2;
    while taken(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// A checked rename.
#[derive(Clone, Debug)]
pub struct MovePlan {
    pub id: String,
    pub from: PathBuf,
    pub from_name: String,
    pub to: PathBuf,
    pub to_name: String,
}

/// Step 1: checks everything for renaming `inst` to the slug `to_name`; changes nothing.
pub fn plan(
    repo: &Repo,
    cfg: &Config,
    others: &[Instance],
    inst: &Instance,
    to_name: &str,
) -> Result<MovePlan> {
    if inst.state != State::Ready || inst.moving.is_some() {
        return Err(UserError::new(format!(
            "{} is in the middle of another operation",
            inst.name
        ))
        .hint("wait for it, or run `git sandbox prune` if it was interrupted")
        .into());
    }
    let from = verified_path(repo, inst)?;
    if let Some(o) = others.iter().find(|o| o.name == to_name && o.id != inst.id) {
        return Err(UserError::new(format!(
            "there is already a sandbox named {to_name} at {}",
            o.path.display()
        ))
        .hint("pick another name")
        .into());
    }
    let to = config::expand_template(
        &cfg.path_template,
        &repo.root,
        &repo.name,
        to_name,
        &inst.id,
    );
    super::confine(repo, &to)?;
    refuse_busy(repo, inst, &from)?;
    Ok(MovePlan {
        id: inst.id.clone(),
        from,
        from_name: inst.name.clone(),
        to,
        to_name: to_name.to_string(),
    })
}

/// The registered path, verified; when it is gone, where it went (if it can be found).
fn verified_path(repo: &Repo, inst: &Instance) -> Result<PathBuf> {
    if fs::symlink_metadata(&inst.path).is_ok() {
        return target::verify(repo, inst);
    }
    let mut err = UserError::new(format!(
        "the directory of {} is not at {} any more",
        inst.name,
        inst.path.display()
    ));
    err = match whereabouts(repo, inst) {
        Some(at) => err.hint(format!(
            "it is at {} (moved by hand?): move it back (`git worktree move {} {}`, or `mv` \
             then `git worktree repair`), then run `git sandbox mv` again",
            at.display(),
            at.display(),
            inst.path.display()
        )),
        None => err.hint("`git sandbox prune` drops entries whose directory is gone"),
    };
    Err(err.into())
}

/// Where a sandbox's worktree went when it was moved by hand: where git's admin entry says
/// (`git worktree move`), else a directory beside the old one whose `.git` links to it (`mv`).
fn whereabouts(repo: &Repo, inst: &Instance) -> Option<PathBuf> {
    let admin = repo.admin_dir(inst.admin());
    if let Some(t) = git::admin_target(&admin).filter(|t| t != &inst.path && t.is_dir()) {
        return Some(t);
    }
    let admin = fs::canonicalize(admin).ok()?;
    let siblings = fs::read_dir(inst.path.parent()?).ok()?;
    siblings.flatten().map(|e| e.path()).find(|p| {
        git::gitfile_target(p).and_then(|g| fs::canonicalize(g).ok()) == Some(admin.clone())
    })
}

/// A lock, processes inside, running services: each refuses the move.
fn refuse_busy(repo: &Repo, inst: &Instance, from: &Path) -> Result<()> {
    if let Some(reason) = repo.lock_reason(inst.admin()) {
        return Err(UserError::new(format!(
            "{} is locked ({reason}); it was not moved",
            inst.name
        ))
        .hint(format!("`git worktree unlock {}` first", from.display()))
        .into());
    }
    crate::git::stop_heal_helper(from);
    // Containers too: one with the sandbox bind-mounted would keep the old directory.
    let (procs, _) = procs::working_in(from, from, None);
    if !procs.is_empty() {
        let list: Vec<String> = procs
            .iter()
            .map(|p| format!("  {}", p.describe()))
            .collect();
        return Err(UserError::new(format!(
            "processes are working inside {}; it was not moved:\n{}",
            from.display(),
            list.join("\n")
        ))
        .hint("stop them (leave that directory, close editors and agents, stop the containers), then run this again")
        .into());
    }
    let running = compose::owner::running().map_err(|e| {
        UserError::new(format!(
            "{e}: whether the services of {} run cannot be told, so it was not moved",
            inst.name
        ))
        .hint("start Docker (or point DOCKER_HOST at it) and try again")
    })?;
    if running.has(inst) {
        return Err(UserError::new(format!(
            "the services of {} are running (their mounts name its path); it was not moved",
            inst.name
        ))
        .hint(format!("`git sandbox down {}` first", inst.name))
        .into());
    }
    Ok(())
}

/// Steps 2-4: marks, moves, finishes. Returns the renamed instance.
pub fn execute(repo: &Repo, cfg: &Config, reg: &Registry, plan: &MovePlan) -> Result<Instance> {
    mark(reg, plan)?;
    let moved = fault::point("mv:marked").and_then(|()| repo.worktree_move(&plan.from, &plan.to));
    if let Err(e) = moved {
        let undo = unmark(reg, plan);
        return Err(match undo {
            Ok(()) => e.context(format!("{} was not moved", plan.from_name)),
            Err(u) => e.context(format!(
                "moving {} failed, and undoing its mark failed too ({u:#}); `git sandbox prune` repairs it",
                plan.from_name
            )),
        });
    }
    fault::point("mv:moved")?;
    finish(repo, Some(cfg), reg, &plan.id)
}

/// Step 2: the new name and path, the old ones in `moving`, our pid.
fn mark(reg: &Registry, plan: &MovePlan) -> Result<()> {
    reg.update(|d| {
        // Names are per repo (another repo may have a sandbox of that name); paths are global.
        let repo_of = d.find(&plan.id).map(|e| e.parent_repo.clone());
        let taken = d.instances.iter().any(|o| {
            o.id != plan.id
                && (o.path == plan.to
                    || (o.name == plan.to_name && Some(&o.parent_repo) == repo_of.as_ref()))
        });
        if taken {
            return Err(UserError::new(format!(
                "another sandbox took the name {} or its path meanwhile",
                plan.to_name
            ))
            .into());
        }
        let e = d
            .find_mut(&plan.id)
            .filter(|e| e.path == plan.from && e.state == State::Ready && e.moving.is_none())
            .context("the sandbox changed while it was being moved; nothing was done")?;
        e.moving = Some(Moving {
            from: plan.from.clone(),
            from_name: plan.from_name.clone(),
        });
        e.name = plan.to_name.clone();
        e.path = plan.to.clone();
        e.pid = Some(std::process::id());
        Ok(())
    })
}

/// Undoes the mark after a move that did not happen.
fn unmark(reg: &Registry, plan: &MovePlan) -> Result<()> {
    reg.update(|d| {
        if let Some(e) = d.find_mut(&plan.id) {
            e.name = plan.from_name.clone();
            e.path = plan.from.clone();
            e.moving = None;
            e.pid = None;
        }
        Ok(())
    })
}

/// Step 4: verifies the new path, rewrites the env file (when the config can be read) and
/// clears the mark.
fn finish(repo: &Repo, cfg: Option<&Config>, reg: &Registry, id: &str) -> Result<Instance> {
    let inst = reg
        .load()?
        .find(id)
        .cloned()
        .context("the registry entry vanished while moving")?;
    let path = target::verify(repo, &inst)?;
    if let Some(cfg) = cfg {
        env::write(&path.join(&cfg.env_file), &env::vars(cfg, &inst)?)?;
        // The context page names the sandbox and its path: it follows the rename.
        if let Some(w) = crate::context::refresh(cfg, &inst, &path) {
            crate::ui::warn(&w);
        }
    }
    reg.update(|d| {
        let e = d
            .find_mut(id)
            .context("the registry entry vanished while moving")?;
        e.moving = None;
        e.pid = None;
        Ok(e.clone())
    })
}

/// What `prune` did (or would do) with an interrupted rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveRepair {
    Finished,
    RolledBack,
}

/// Finishes a rename whose directory reached its new path, rolls back one whose directory is
/// still at the old path; anything else is an error naming both paths.
pub fn repair_move(
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    dry_run: bool,
) -> Result<MoveRepair> {
    let Some(m) = &inst.moving else {
        anyhow::bail!("{} has no rename under way", inst.id);
    };
    let admin = repo.admin_dir(inst.admin());
    if fs::symlink_metadata(&inst.path).is_ok() && repo.is_linked(&inst.path, inst.admin()) {
        if !dry_run {
            if git::admin_target(&admin).as_deref() != Some(inst.path.as_path()) {
                // git was stopped between moving the directory and updating its entry.
                repo.worktree_repair(&inst.path)?;
            }
            let cfg = Config::load(&repo.root).ok();
            finish(repo, cfg.as_ref(), reg, &inst.id)?;
        }
        return Ok(MoveRepair::Finished);
    }
    let old = Instance {
        path: m.from.clone(),
        ..inst.clone()
    };
    if target::verify(repo, &old).is_ok() {
        if !dry_run {
            let plan = MovePlan {
                id: inst.id.clone(),
                from: m.from.clone(),
                from_name: m.from_name.clone(),
                to: inst.path.clone(),
                to_name: inst.name.clone(),
            };
            unmark(reg, &plan)?;
        }
        return Ok(MoveRepair::RolledBack);
    }
    Err(UserError::new(format!(
        "the interrupted rename of {} left its worktree neither at {} nor at {}; left alone",
        inst.id,
        m.from.display(),
        inst.path.display()
    ))
    .hint(
        "find the directory, put it at one of them (`git worktree repair` it), and run prune again",
    )
    .into())
}
